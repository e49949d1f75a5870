#include "quantizewizard.h"

#include <algorithm>

#include <QFile>
#include <QGuiApplication>
#include <QKeyEvent>
#include <QMessageBox>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QStringList>

#include "appsettings.h"
#include "quantizepages.h"
#include "quantizeworker.h"

QuantizeWizard::QuantizeWizard(const QString &modelFolder, QWidget *parent) : QWizard(parent)
{
    setObjectName(QStringLiteral("quantizeWizard"));
    setWindowTitle(tr("Quantize Model"));
    setWizardStyle(QWizard::ClassicStyle);
    setOption(QWizard::NoBackButtonOnStartPage, true);

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
    // Where the user is: "Step 2 of 5 — Calibration".
    const QList<int> ids = pageIds();
    for (int i = 0; i < ids.size(); ++i)
        page(ids[i])->setTitle(tr("Step %1 of %2 — %3").arg(i + 1).arg(ids.size()).arg(page(ids[i])->title()));
    restoreSettings();
    // At least 900x660, or on a smaller screen its free area (less the frame and title bar).
    if (const QScreen *screen = parent ? parent->screen() : QGuiApplication::primaryScreen())
        setMinimumSize(QSize(900, 660).boundedTo(screen->availableGeometry().size() - QSize(16, 48)));

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
    options.device = m_modelPage->device().toStdString();
    options.calibration = calibrationOptions();
    if (options.calibration.seqLen == 0) {
        const int64_t context = modelInfo() ? modelInfo()->config.maxPositionEmbeddings : 512;
        options.calibration.seqLen = std::min<int64_t>(512, context);
    }
    m_configPage->apply(options);
    return options;
}

namespace {
const QString kSettingsGroup = QStringLiteral("quantizeWizard");
}

void QuantizeWizard::saveSettings() const
{
    const awq::QuantOptions o = options();
    QSettings settings(AppSettings::organization(), AppSettings::application());
    settings.beginGroup(kSettingsGroup);
    settings.setValue(QStringLiteral("calibration/kind"), int(o.calibration.source.kind));
    settings.setValue(QStringLiteral("calibration/path"),
                      o.calibration.source.kind == awq::CalibrationSource::Kind::Builtin
                          ? QString()
                          : QFile::decodeName(QByteArray::fromStdString(o.calibration.source.path.string())));
    settings.setValue(QStringLiteral("calibration/jsonField"), QString::fromStdString(o.calibration.source.jsonField));
    settings.setValue(QStringLiteral("calibration/nSamples"), qint64(o.calibration.nSamples));
    settings.setValue(QStringLiteral("calibration/seqLen"), qint64(m_calibrationPage->options().seqLen)); // 0 = auto
    settings.setValue(QStringLiteral("method"), QString::fromUtf8(awq::methodName(o.method)));
    settings.setValue(QStringLiteral("bits"), o.quantizer.bits);
    settings.setValue(QStringLiteral("groupSize"), qint64(o.quantizer.groupSize));
    settings.setValue(QStringLiteral("zeroPoint"), o.quantizer.zeroPoint);
    settings.setValue(QStringLiteral("version"), QString::fromStdString(o.version));
    settings.setValue(QStringLiteral("format"), int(o.format));
    settings.setValue(QStringLiteral("clip"), o.applyClip);
    QStringList skipped;
    for (const std::string &name : o.modulesToNotConvert)
        skipped << QString::fromStdString(name);
    settings.setValue(QStringLiteral("modulesToNotConvert"), skipped);
    settings.setValue(QStringLiteral("grid"), o.nGrid);
    settings.setValue(QStringLiteral("searchTokens"), qint64(o.maxSearchTokens));
    settings.setValue(QStringLiteral("duoScaling"), o.duoScaling);
}

void QuantizeWizard::restoreSettings()
{
    QSettings settings(AppSettings::organization(), AppSettings::application());
    settings.beginGroup(kSettingsGroup);
    if (!settings.contains(QStringLiteral("bits")))
        return; // never saved: the pages' defaults stand
    awq::QuantOptions o; // defaults for anything missing
    const int kind = settings.value(QStringLiteral("calibration/kind"), 0).toInt();
    if (kind >= 0 && kind <= int(awq::CalibrationSource::Kind::Folder))
        o.calibration.source.kind = awq::CalibrationSource::Kind(kind);
    o.calibration.source.path = QFile::encodeName(settings.value(QStringLiteral("calibration/path")).toString()).toStdString();
    o.calibration.source.jsonField =
        settings.value(QStringLiteral("calibration/jsonField"), QStringLiteral("text")).toString().toStdString();
    o.calibration.nSamples = settings.value(QStringLiteral("calibration/nSamples"), 128).toLongLong();
    o.calibration.seqLen = settings.value(QStringLiteral("calibration/seqLen"), 0).toLongLong();
    o.method = settings.value(QStringLiteral("method")).toString() == QLatin1String("rtn") ? awq::QuantMethod::Rtn
                                                                                           : awq::QuantMethod::Awq;
    o.quantizer.bits = settings.value(QStringLiteral("bits"), 4).toInt();
    o.quantizer.groupSize = settings.value(QStringLiteral("groupSize"), 128).toLongLong();
    o.quantizer.zeroPoint = settings.value(QStringLiteral("zeroPoint"), true).toBool();
    o.version = settings.value(QStringLiteral("version"), QStringLiteral("gemm")).toString().toStdString();
    const int format = settings.value(QStringLiteral("format"), 0).toInt();
    if (format >= 0 && format <= int(awq::OutputFormat::FakeQuant))
        o.format = awq::OutputFormat(format);
    o.applyClip = settings.value(QStringLiteral("clip"), true).toBool();
    for (const QString &name : settings.value(QStringLiteral("modulesToNotConvert")).toStringList())
        o.modulesToNotConvert.push_back(name.toStdString());
    o.nGrid = settings.value(QStringLiteral("grid"), 20).toInt();
    o.maxSearchTokens = settings.value(QStringLiteral("searchTokens"), qint64(awq::QuantOptions{}.maxSearchTokens)).toLongLong();
    o.duoScaling = settings.value(QStringLiteral("duoScaling"), true).toBool();
    m_calibrationPage->load(o.calibration);
    m_configPage->load(o);
}

bool QuantizeWizard::isRunning() const
{
    return m_controller->isRunning();
}

void QuantizeWizard::keyPressEvent(QKeyEvent *event)
{
    // Esc (also the one that closes a combo box's list, when it reaches the wizard) never
    // throws the choices away unasked: while running it asks to cancel, otherwise to close.
    if (event->matches(QKeySequence::Cancel)) {
        event->accept();
        if (isRunning()) {
            reject();
            return;
        }
        QMessageBox box(QMessageBox::Question, tr("Close the Wizard"),
                        tr("Close the quantization wizard? Nothing has been quantized yet."),
                        QMessageBox::Yes | QMessageBox::No, this);
        box.setObjectName(QStringLiteral("closeWizardBox"));
        box.setDefaultButton(QMessageBox::No);
        box.button(QMessageBox::Yes)->setText(tr("Close"));
        box.button(QMessageBox::No)->setText(tr("Stay"));
        if (box.exec() == QMessageBox::Yes)
            QWizard::reject();
        return;
    }
    QWizard::keyPressEvent(event);
}

void QuantizeWizard::cancelRunAndClose()
{
    const bool confirm = m_confirmCancel;
    m_confirmCancel = false;
    reject();
    m_confirmCancel = confirm;
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
