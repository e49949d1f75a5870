#include "quantizewizard.h"

#include <algorithm>

#include <QFile>

#include "quantizepages.h"
#include "quantizeworker.h"

QuantizeWizard::QuantizeWizard(const QString &modelFolder, QWidget *parent) : QWizard(parent)
{
    setObjectName(QStringLiteral("quantizeWizard"));
    setWindowTitle(tr("Quantize Model"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnStartPage, true);
    setMinimumSize(720, 560);

    m_controller = new QuantizeController(this);
    m_modelPage = new QuantModelPage(modelFolder, this);
    m_calibrationPage = new QuantCalibrationPage(this);
    m_configPage = new QuantConfigPage(this);
    m_outputPage = new QuantOutputPage(this);
    m_runPage = new QuantRunPage(this);
    setPage(ModelPageId, m_modelPage);
    setPage(CalibrationPageId, m_calibrationPage);
    setPage(ConfigPageId, m_configPage);
    setPage(OutputPageId, m_outputPage);
    setPage(RunPageId, m_runPage);
    setStartId(ModelPageId);

    auto closeIfAsked = [this] {
        if (m_closeWhenStopped) {
            m_closeWhenStopped = false;
            QWizard::reject();
        }
    };
    connect(m_controller, &QuantizeController::cancelled, this, closeIfAsked);
    connect(m_controller, &QuantizeController::failed, this, closeIfAsked);
    connect(m_controller, &QuantizeController::finished, this, closeIfAsked);
    connect(m_controller, &QuantizeController::finished, this, &QuantizeWizard::quantized);
    connect(m_runPage, &QuantRunPage::chatRequested, this, [this](const QString &folder) {
        Q_EMIT chatRequested(folder);
        accept();
    });
    connect(m_runPage, &QuantRunPage::benchmarkRequested, this, [this](const QString &folder) {
        Q_EMIT benchmarkRequested(folder);
        accept();
    });
}

QuantizeWizard::~QuantizeWizard() = default;

QString QuantizeWizard::modelFolder() const
{
    return m_modelPage->folder();
}

const std::optional<awq::ModelInfo> &QuantizeWizard::modelInfo() const
{
    return m_modelPage->info();
}

awq::CalibrationOptions QuantizeWizard::calibrationOptions() const
{
    return m_calibrationPage->options();
}

awq::QuantOptions QuantizeWizard::options() const
{
    awq::QuantOptions options;
    options.modelFolder = std::filesystem::path(QFile::encodeName(modelFolder()).toStdString());
    const QString output = m_outputPage->folder();
    if (!output.isEmpty())
        options.outputFolder = std::filesystem::path(QFile::encodeName(output).toStdString());
    options.overwrite = m_outputPage->overwrite();
    options.calibration = calibrationOptions();
    if (options.calibration.seqLen == 0) {
        const int64_t context = modelInfo() ? modelInfo()->config.maxPositionEmbeddings : 512;
        options.calibration.seqLen = std::min<int64_t>(512, context);
    }
    m_configPage->apply(options);
    return options;
}

bool QuantizeWizard::isRunning() const
{
    return m_controller->isRunning();
}

void QuantizeWizard::reject()
{
    if (!isRunning()) {
        QWizard::reject();
        return;
    }
    // Closing while running: cancel first (with confirmation), close once the engine
    // has stopped and removed its temporary folder.
    if (m_runPage->requestCancel() && isRunning())
        m_closeWhenStopped = true;
}
