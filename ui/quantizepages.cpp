#include "quantizepages.h"
#include "modelcontroller.h"
#include "quantizepagehelpers.h"

#include <filesystem>
#include <string>

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "awq/core/error.h"
#include "awq/runtime/resources.h"
#include "quantizewizard.h"
#include "quantizeworker.h"

using namespace quantui;

// ---------------------------------------------------------------------------- Model

QuantModelPage::QuantModelPage(const QString &folder, QWidget *parent) : QWizardPage(parent)
{
    setTitle(tr("Model"));
    setSubTitle(tr("Choose the Hugging Face model folder to quantize (full precision safetensors)."));

    m_pathEdit = new QLineEdit(this);
    m_pathEdit->setObjectName(QStringLiteral("modelPathEdit"));
    m_pathEdit->setPlaceholderText(tr("Model folder"));
    auto *browseButton = new QPushButton(tr("Browse…"), this);
    browseButton->setObjectName(QStringLiteral("modelBrowseButton"));
    m_statusLabel = makeStatusLabel(QStringLiteral("modelStatusLabel"), this);

    auto *row = new QHBoxLayout;
    row->addWidget(m_pathEdit, 1);
    row->addWidget(browseButton);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(row);
    layout->addWidget(m_statusLabel);
    layout->addStretch(1);

    m_inspector = new ModelController(this);
    connect(m_inspector, &ModelController::modelInspected, this,
            [this](const awq::ModelInfo &info, qint64) { showInspection(info); });
    connect(m_inspector, &ModelController::inspectionFailed, this, [this](const QString &, const QString &message) {
        setStatus(m_statusLabel, message, true);
    });
    connect(m_pathEdit, &QLineEdit::textChanged, this, &QuantModelPage::validateFolder);
    connect(browseButton, &QPushButton::clicked, this, &QuantModelPage::browse);

    m_pathEdit->setText(folder);
    validateFolder();
}

bool QuantModelPage::isComplete() const
{
    return m_usable;
}

QString QuantModelPage::folder() const
{
    return absoluteClean(m_pathEdit->text());
}

void QuantModelPage::browse()
{
    const QString chosen = QFileDialog::getExistingDirectory(this, tr("Model Folder"), m_pathEdit->text());
    if (!chosen.isEmpty())
        m_pathEdit->setText(QDir::toNativeSeparators(chosen));
}

void QuantModelPage::validateFolder()
{
    // Every edit starts an inspection on the controller's worker thread; only the latest
    // one reports back (a path typed character by character never blocks the GUI).
    m_info.reset();
    m_usable = false;
    const QString path = folder();
    if (path.isEmpty())
        setStatus(m_statusLabel, tr("Choose a model folder."), false);
    else {
        setStatus(m_statusLabel, tr("Checking %1…").arg(QDir::toNativeSeparators(path)), false);
        m_inspector->openModel(path);
    }
    Q_EMIT completeChanged();
}

void QuantModelPage::showInspection(const awq::ModelInfo &inspected)
{
    m_info = inspected;
    const awq::ModelInfo &info = *m_info;
    const awq::ModelConfig &c = info.config;
    QString facts = tr("%1 (%2): %3 parameters, %4 layers, hidden %5, intermediate %6, %7 heads (%8 KV), "
                       "vocabulary %9.\nWeights %10 in %11 shard(s); %12.")
                        .arg(QString::fromStdString(c.architecture), QString::fromStdString(c.modelType),
                             QString::fromStdString(awq::formatCount(info.parameterCount)))
                        .arg(c.numLayers)
                        .arg(c.hiddenSize)
                        .arg(c.intermediateSize)
                        .arg(c.numHeads)
                        .arg(c.numKvHeads)
                        .arg(c.vocabSize)
                        .arg(bytesText(info.weightBytes))
                        .arg(info.shardCount)
                        .arg(QString::fromStdString(info.precisionSummary()));
    if (!info.loadable()) {
        QStringList problems;
        for (const std::string &problem : info.problems)
            problems << QString::fromStdString(problem);
        setStatus(m_statusLabel,
                  facts + QLatin1Char('\n') + tr("This folder cannot be quantized:\n") + problems.join(QLatin1Char('\n')),
                  true);
    } else if (info.quantized()) {
        setStatus(m_statusLabel,
                  facts + QLatin1Char('\n') + tr("This model is already quantized; choose a full-precision model."), true);
    } else {
        setStatus(m_statusLabel, facts, false);
        m_usable = true;
    }
    Q_EMIT completeChanged();
}

// ---------------------------------------------------------------------------- Calibration

QuantCalibrationPage::QuantCalibrationPage(QuantizeWizard *wizard) : QWizardPage(wizard), m_wizard(wizard)
{
    setTitle(tr("Calibration"));
    setSubTitle(tr("Text the scale search runs on. Records longer than the block length are skipped."));

    m_builtinRadio = new QRadioButton(tr("Built-in text (Brown corpus sample)"), this);
    m_builtinRadio->setObjectName(QStringLiteral("calibBuiltinRadio"));
    m_textRadio = new QRadioButton(tr("Text file (paragraphs, or lines when there are no blank lines)"), this);
    m_textRadio->setObjectName(QStringLiteral("calibTextRadio"));
    m_jsonlRadio = new QRadioButton(tr("JSONL file (one JSON object per line)"), this);
    m_jsonlRadio->setObjectName(QStringLiteral("calibJsonlRadio"));
    m_folderRadio = new QRadioButton(tr("Folder of .txt files (one record per file)"), this);
    m_folderRadio->setObjectName(QStringLiteral("calibFolderRadio"));
    auto *group = new QButtonGroup(this);
    for (QRadioButton *radio : {m_builtinRadio, m_textRadio, m_jsonlRadio, m_folderRadio})
        group->addButton(radio);
    m_builtinRadio->setChecked(true);

    m_pathEdit = new QLineEdit(this);
    m_pathEdit->setObjectName(QStringLiteral("calibPathEdit"));
    m_browseButton = new QPushButton(tr("Browse…"), this);
    m_browseButton->setObjectName(QStringLiteral("calibBrowseButton"));
    m_jsonFieldEdit = new QLineEdit(QStringLiteral("text"), this);
    m_jsonFieldEdit->setObjectName(QStringLiteral("jsonFieldEdit"));

    m_nSamplesSpin = new QSpinBox(this);
    m_nSamplesSpin->setObjectName(QStringLiteral("nSamplesSpin"));
    m_nSamplesSpin->setRange(1, 1000000);
    m_nSamplesSpin->setValue(128);
    m_seqLenSpin = new QSpinBox(this);
    m_seqLenSpin->setObjectName(QStringLiteral("seqLenSpin"));
    m_seqLenSpin->setRange(0, 1000000);
    m_seqLenSpin->setValue(0);
    m_seqLenSpin->setSpecialValueText(tr("auto (512, or the model's context if shorter)"));

    m_checkButton = new QPushButton(tr("Check"), this);
    m_checkButton->setObjectName(QStringLiteral("calibCheckButton"));
    m_statusLabel = makeStatusLabel(QStringLiteral("calibStatusLabel"), this);

    auto *pathRow = new QHBoxLayout;
    pathRow->addWidget(m_pathEdit, 1);
    pathRow->addWidget(m_browseButton);
    auto *form = new QFormLayout;
    form->addRow(tr("File or folder:"), pathRow);
    form->addRow(tr("JSON field:"), m_jsonFieldEdit);
    form->addRow(tr("Samples (records):"), m_nSamplesSpin);
    form->addRow(tr("Block length (tokens):"), m_seqLenSpin);

    auto *layout = new QVBoxLayout(this);
    for (QRadioButton *radio : {m_builtinRadio, m_textRadio, m_jsonlRadio, m_folderRadio})
        layout->addWidget(radio);
    layout->addLayout(form);
    auto *checkRow = new QHBoxLayout;
    checkRow->addWidget(m_checkButton);
    checkRow->addWidget(m_statusLabel, 1);
    layout->addLayout(checkRow);
    layout->addStretch(1);

    connect(group, &QButtonGroup::buttonToggled, this, [this](QAbstractButton *, bool checked) {
        if (checked)
            updateSourceWidgets();
    });
    connect(m_pathEdit, &QLineEdit::textChanged, this, [this] {
        setStatus(m_statusLabel, QString(), false);
        Q_EMIT completeChanged();
    });
    connect(m_jsonFieldEdit, &QLineEdit::textChanged, this, &QuantCalibrationPage::completeChanged);
    connect(m_browseButton, &QPushButton::clicked, this, &QuantCalibrationPage::browse);
    connect(m_checkButton, &QPushButton::clicked, this, &QuantCalibrationPage::check);
    connect(wizard->controller(), &QuantizeController::calibrationChecked, this,
            [this](qint64 blocks, qint64 tokens, qint64 used, qint64 skipped, const QString &description) {
                m_checkButton->setEnabled(true);
                showStatus(tr("%1: %2 blocks, %3 tokens from %4 records (%5 skipped).")
                               .arg(description)
                               .arg(blocks)
                               .arg(tokens)
                               .arg(used)
                               .arg(skipped),
                           false);
            });
    connect(wizard->controller(), &QuantizeController::calibrationFailed, this, [this](const QString &message) {
        m_checkButton->setEnabled(true);
        showStatus(message, true);
    });
    updateSourceWidgets();
}

void QuantCalibrationPage::updateSourceWidgets()
{
    const bool needsPath = !m_builtinRadio->isChecked();
    m_pathEdit->setEnabled(needsPath);
    m_browseButton->setEnabled(needsPath);
    m_jsonFieldEdit->setEnabled(m_jsonlRadio->isChecked());
    if (m_builtinRadio->isChecked() && awq::findData(awq::kCalibrationTextPath).empty())
        showStatus(tr("The built-in calibration text %1 is not installed; choose a file.")
                       .arg(QString::fromUtf8(awq::kCalibrationTextPath)),
                   true);
    else
        showStatus(QString(), false);
    Q_EMIT completeChanged();
}

void QuantCalibrationPage::showStatus(const QString &text, bool error)
{
    setStatus(m_statusLabel, text, error);
}

bool QuantCalibrationPage::isComplete() const
{
    if (m_builtinRadio->isChecked())
        return !awq::findData(awq::kCalibrationTextPath).empty();
    if (m_pathEdit->text().trimmed().isEmpty())
        return false;
    return !m_jsonlRadio->isChecked() || !m_jsonFieldEdit->text().trimmed().isEmpty();
}

awq::CalibrationOptions QuantCalibrationPage::options() const
{
    awq::CalibrationOptions options;
    if (m_builtinRadio->isChecked()) {
        options.source.kind = awq::CalibrationSource::Kind::Builtin;
        options.source.path = awq::findData(awq::kCalibrationTextPath);
    } else {
        options.source.kind = m_textRadio->isChecked()    ? awq::CalibrationSource::Kind::TextFile
                              : m_jsonlRadio->isChecked() ? awq::CalibrationSource::Kind::Jsonl
                                                          : awq::CalibrationSource::Kind::Folder;
        options.source.path = toPath(absoluteClean(m_pathEdit->text()));
        options.source.jsonField = m_jsonFieldEdit->text().trimmed().toStdString();
    }
    options.nSamples = m_nSamplesSpin->value();
    options.seqLen = m_seqLenSpin->value();
    return options;
}

void QuantCalibrationPage::browse()
{
    QString chosen;
    if (m_folderRadio->isChecked())
        chosen = QFileDialog::getExistingDirectory(this, tr("Calibration Folder"), m_pathEdit->text());
    else if (m_jsonlRadio->isChecked())
        chosen = QFileDialog::getOpenFileName(this, tr("Calibration JSONL"), m_pathEdit->text(),
                                              tr("JSON Lines (*.jsonl *.json);;All files (*)"));
    else
        chosen = QFileDialog::getOpenFileName(this, tr("Calibration Text"), m_pathEdit->text(),
                                              tr("Text (*.txt);;All files (*)"));
    if (!chosen.isEmpty())
        m_pathEdit->setText(QDir::toNativeSeparators(chosen));
}

void QuantCalibrationPage::check()
{
    if (!isComplete()) {
        showStatus(tr("Choose a calibration file or folder first."), true);
        return;
    }
    awq::CalibrationOptions options = this->options();
    if (options.seqLen == 0) // resolved as the engine does
        options.seqLen = m_wizard->options().calibration.seqLen;
    m_checkButton->setEnabled(false);
    showStatus(tr("Tokenizing…"), false);
    m_wizard->controller()->checkCalibration(m_wizard->modelFolder(), options);
}

// ---------------------------------------------------------------------------- Configuration

QuantConfigPage::QuantConfigPage(QuantizeWizard *wizard) : QWizardPage(wizard), m_wizard(wizard)
{
    setTitle(tr("Configuration"));
    setSubTitle(tr("How the weights are quantized and written."));

    m_awqRadio = new QRadioButton(tr("AWQ (activation-aware scale and clip search)"), this);
    m_awqRadio->setObjectName(QStringLiteral("methodAwqRadio"));
    m_rtnRadio = new QRadioButton(tr("RTN (round to nearest, no search: the baseline)"), this);
    m_rtnRadio->setObjectName(QStringLiteral("methodRtnRadio"));
    auto *methodGroup = new QButtonGroup(this);
    methodGroup->addButton(m_awqRadio);
    methodGroup->addButton(m_rtnRadio);
    m_awqRadio->setChecked(true);

    m_bitsSpin = new QSpinBox(this);
    m_bitsSpin->setObjectName(QStringLiteral("bitsSpin"));
    m_bitsSpin->setRange(2, 8);
    m_bitsSpin->setValue(4);
    m_bitsSpin->setToolTip(tr("Packed checkpoints are 4-bit; other widths need the fake-quant output."));

    m_groupSizeCombo = new QComboBox(this);
    m_groupSizeCombo->setObjectName(QStringLiteral("groupSizeCombo"));
    for (int size : {32, 64, 128})
        m_groupSizeCombo->addItem(QString::number(size), size);
    m_groupSizeCombo->setCurrentIndex(2);

    m_zeroPointCheck = new QCheckBox(tr("Zero point (asymmetric)"), this);
    m_zeroPointCheck->setObjectName(QStringLiteral("zeroPointCheck"));
    m_zeroPointCheck->setChecked(true);

    m_gemmRadio = new QRadioButton(tr("GEMM"), this);
    m_gemmRadio->setObjectName(QStringLiteral("packGemmRadio"));
    m_gemvRadio = new QRadioButton(tr("GEMV"), this);
    m_gemvRadio->setObjectName(QStringLiteral("packGemvRadio"));
    auto *packGroup = new QButtonGroup(this);
    packGroup->addButton(m_gemmRadio);
    packGroup->addButton(m_gemvRadio);
    m_gemmRadio->setChecked(true);
    auto *packHelp = new QLabel(tr("GEMV is faster at batch size 1; GEMM is better for batches and long prompts."),
                                this);
    packHelp->setObjectName(QStringLiteral("packingHelpLabel"));
    packHelp->setWordWrap(true);

    m_clipCheck = new QCheckBox(tr("Search clipping thresholds"), this);
    m_clipCheck->setObjectName(QStringLiteral("clipCheck"));
    m_clipCheck->setChecked(true);

    m_outputKindCombo = new QComboBox(this);
    m_outputKindCombo->setObjectName(QStringLiteral("outputKindCombo"));
    m_outputKindCombo->addItem(tr("Packed AWQ checkpoint (AutoAWQ, transformers, vLLM)"),
                               int(awq::OutputFormat::Packed));
    m_outputKindCombo->addItem(tr("Export-compatible (scaled full-precision weights, for GGUF)"),
                               int(awq::OutputFormat::ExportCompatible));
    m_outputKindCombo->addItem(tr("Fake-quant (dequantized full-precision weights, any bit width)"),
                               int(awq::OutputFormat::FakeQuant));

    m_statusLabel = makeStatusLabel(QStringLiteral("configStatusLabel"), this);

    auto *methodBox = new QVBoxLayout;
    methodBox->addWidget(m_awqRadio);
    methodBox->addWidget(m_rtnRadio);
    auto *packRow = new QHBoxLayout;
    packRow->addWidget(m_gemmRadio);
    packRow->addWidget(m_gemvRadio);
    packRow->addStretch(1);
    auto *packBox = new QVBoxLayout;
    packBox->addLayout(packRow);
    packBox->addWidget(packHelp);

    auto *form = new QFormLayout;
    form->addRow(tr("Method:"), methodBox);
    form->addRow(tr("Bits:"), m_bitsSpin);
    form->addRow(tr("Group size:"), m_groupSizeCombo);
    form->addRow(QString(), m_zeroPointCheck);
    form->addRow(tr("Packing:"), packBox);
    form->addRow(QString(), m_clipCheck);
    form->addRow(tr("Output:"), m_outputKindCombo);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_statusLabel);
    layout->addStretch(1);

    for (QRadioButton *radio : {m_awqRadio, m_rtnRadio, m_gemmRadio, m_gemvRadio})
        connect(radio, &QRadioButton::toggled, this, &QuantConfigPage::revalidate);
    for (QCheckBox *check : {m_zeroPointCheck, m_clipCheck})
        connect(check, &QCheckBox::toggled, this, &QuantConfigPage::revalidate);
    connect(m_bitsSpin, &QSpinBox::valueChanged, this, &QuantConfigPage::revalidate);
    connect(m_groupSizeCombo, &QComboBox::currentIndexChanged, this, &QuantConfigPage::revalidate);
    connect(m_outputKindCombo, &QComboBox::currentIndexChanged, this, &QuantConfigPage::revalidate);
}

void QuantConfigPage::initializePage()
{
    revalidate();
}

bool QuantConfigPage::isComplete() const
{
    return m_error.isEmpty();
}

void QuantConfigPage::apply(awq::QuantOptions &options) const
{
    options.method = m_awqRadio->isChecked() ? awq::QuantMethod::Awq : awq::QuantMethod::Rtn;
    options.quantizer.bits = m_bitsSpin->value();
    options.quantizer.groupSize = m_groupSizeCombo->currentData().toInt();
    options.quantizer.zeroPoint = m_zeroPointCheck->isChecked();
    options.version = m_gemvRadio->isChecked() ? "gemv" : "gemm";
    options.format = awq::OutputFormat(m_outputKindCombo->currentData().toInt());
    options.applyClip = m_awqRadio->isChecked() && m_clipCheck->isChecked();
}

void QuantConfigPage::revalidate()
{
    const bool packed = awq::OutputFormat(m_outputKindCombo->currentData().toInt()) == awq::OutputFormat::Packed;
    m_gemmRadio->setEnabled(packed);
    m_gemvRadio->setEnabled(packed);
    m_clipCheck->setEnabled(m_awqRadio->isChecked());

    m_error.clear();
    const std::optional<awq::ModelInfo> &info = m_wizard->modelInfo();
    if (!info) {
        m_error = tr("Choose a model on the first page.");
    } else {
        awq::QuantOptions options = m_wizard->options();
        if (options.outputFolder.empty())
            options.outputFolder = toPath(m_wizard->modelFolder() + QStringLiteral("-awq")); // chosen on the next page
        try {
            options.validate(info->config);
        } catch (const std::exception &error) {
            m_error = QString::fromStdString(error.what());
        }
    }
    setStatus(m_statusLabel, m_error, !m_error.isEmpty());
    Q_EMIT completeChanged();
}
