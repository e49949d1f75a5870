#include "quantizepages.h"
#include "modelcontroller.h"
#include "quantizepagehelpers.h"

#include <algorithm>
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
#include <QJsonDocument>
#include <QJsonObject>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QSpinBox>
#include <QThread>
#include <QVBoxLayout>

#include "awq/core/error.h"
#include "awq/core/gpu_memory.h"
#include "awq/core/memory.h"
#include "awq/runtime/devices.h"
#include "awq/model/memory_estimate.h"
#include "awq/runtime/resources.h"
#include "quantizewizard.h"
#include "quantizeworker.h"
#include "theme.h"

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
    m_memoryLabel = new QLabel(this);
    m_memoryLabel->setObjectName(QStringLiteral("modelMemoryLabel"));
    m_memoryLabel->setTextFormat(Qt::RichText);
    m_memoryLabel->setWordWrap(true);

    // The devices LibTorch can use (a GPU only with a CUDA LibTorch), each GPU with its memory.
    m_deviceBox = new QComboBox(this);
    m_deviceBox->setObjectName(QStringLiteral("quantizeDeviceBox"));
    const std::vector<awq::GpuMemory> gpus = awq::queryGpuMemory();
    for (const awq::ComputeDevice &d : awq::availableDevices()) {
        QString label = QString::fromStdString(d.label);
        for (const awq::GpuMemory &g : gpus)
            if (d.id == "cuda:" + std::to_string(g.index))
                label = tr("%1: %2 (%3 free of %4)")
                            .arg(label, QString::fromStdString(g.name), bytesText(g.totalBytes - std::min(g.usedBytes, g.totalBytes)),
                                 bytesText(g.totalBytes));
        m_deviceBox->addItem(label, QString::fromStdString(d.id));
    }
    m_deviceBox->setToolTip(tr("Where capture, scale search and clip search run, one layer at a time; packing and "
                               "writing stay on the CPU"));
    connect(m_deviceBox, &QComboBox::currentIndexChanged, this, [this] {
        if (m_info && m_usable)
            showMemoryEstimate(*m_info);
    });

    auto *row = new QHBoxLayout;
    row->addWidget(m_pathEdit, 1);
    row->addWidget(browseButton);
    auto *deviceRow = new QHBoxLayout;
    deviceRow->addWidget(new QLabel(tr("Quantize on:"), this));
    deviceRow->addWidget(m_deviceBox, 1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(row);
    layout->addWidget(m_statusLabel);
    layout->addLayout(deviceRow);
    layout->addWidget(m_memoryLabel);
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

QString QuantModelPage::device() const
{
    return m_deviceBox->currentData().toString();
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
    m_memoryLabel->clear();
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
        showMemoryEstimate(info);
        m_usable = true;
    }
    Q_EMIT completeChanged();
}

void QuantModelPage::showMemoryEstimate(const awq::ModelInfo &info)
{
    const awq::MemoryEstimate e = awq::estimateMemory(info.config);
    const awq::SystemMemory system = awq::systemMemory();
    // The estimate counts what this process holds already; what is available does not.
    const bool fits = e.quantizeCpu < system.availableBytes + awq::currentRssBytes();
    QString html = tr("<b>Memory (estimated)</b><table cellspacing='0' cellpadding='2'>"
                      "<tr><td>Quantizing on this CPU:&nbsp;</td><td><b>%1</b> with the built-in calibration set "
                      "(about %2 tokens; the Calibration page updates it)%3</td></tr>"
                      "<tr><td>Running on the CPU:&nbsp;</td><td>full precision %4 · 4-bit %5 "
                      "(fused engine, %6-token context)</td></tr>"
                      "<tr><td>Running on a GPU:&nbsp;</td><td>fp16 %7 · 4-bit %8</td></tr></table>")
                       .arg(bytesText(e.quantizeCpu))
                       .arg(e.calibrationTokens)
                       .arg(fits ? tr("; %1 available now").arg(bytesText(system.availableBytes))
                                 : tr(" — %1").arg(Theme::toned(tr("more than the %1 available now")
                                                                    .arg(bytesText(system.availableBytes)),
                                                                Theme::Tone::Error)))
                       .arg(bytesText(e.fp32Cpu), bytesText(e.int4Cpu))
                       .arg(e.context)
                       .arg(bytesText(e.fp16Gpu), bytesText(e.int4Gpu));
    QString device = tr("<b>Device:</b> the CPU, %1 threads, int4 kernels for %2.")
                         .arg(QThread::idealThreadCount())
                         .arg(QString::fromStdString(awq::cpuInstructionSet()));
    const QString chosen = this->device();
    if (chosen != QLatin1String("cpu")) // one layer's weights and the calibration activations go there
        device = tr("<b>Device:</b> %1 runs capture, scale and clip search (about %2 there: one layer's "
                    "weights and the calibration activations); packing and writing stay on the CPU.")
                     .arg(m_deviceBox->currentText().toHtmlEscaped(), bytesText(e.quantizeCpu));
    else if (!awq::queryGpuMemory().empty() && m_deviceBox->count() == 1)
        device += tr(" A GPU is present, but this build's LibTorch has no CUDA: it quantizes on the CPU.");
    Theme::setTonedText(m_memoryLabel, html + QStringLiteral("<p>") + device + QStringLiteral("</p>"));
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
    m_jsonFieldCombo = new QComboBox(this);
    m_jsonFieldCombo->setObjectName(QStringLiteral("jsonFieldCombo"));
    m_jsonFieldCombo->setEditable(true);
    m_jsonFieldCombo->setEditText(QStringLiteral("text"));
    m_jsonFieldCombo->setToolTip(tr("The string field that holds each record's text; the list offers the fields "
                                    "found in the file's first lines"));

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
    form->addRow(tr("JSON field:"), m_jsonFieldCombo);
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
    m_preview = new QPlainTextEdit(this);
    m_preview->setObjectName(QStringLiteral("calibPreview"));
    m_preview->setReadOnly(true);
    m_preview->setPlaceholderText(tr("Check shows the first records here."));
    m_preview->setMaximumHeight(110);
    layout->addWidget(new QLabel(tr("First records:"), this));
    layout->addWidget(m_preview);
    layout->addStretch(1);

    connect(group, &QButtonGroup::buttonToggled, this, [this](QAbstractButton *, bool checked) {
        if (checked)
            updateSourceWidgets();
    });
    connect(m_pathEdit, &QLineEdit::textChanged, this, [this] {
        m_awaitingCheck = false;
        m_preview->clear();
        updateJsonFields();
        showStatus(sourceProblem(), !sourceProblem().isEmpty());
        Q_EMIT completeChanged();
    });
    connect(m_jsonFieldCombo, &QComboBox::currentTextChanged, this, &QuantCalibrationPage::completeChanged);
    // A result for other settings would mislead: drop it.
    for (QSpinBox *spin : {m_nSamplesSpin, m_seqLenSpin})
        connect(spin, &QSpinBox::valueChanged, this, [this] {
            if (m_awaitingCheck || !m_preview->toPlainText().isEmpty()) {
                m_awaitingCheck = false;
                m_preview->clear();
                showStatus(QString(), false);
            }
        });
    connect(m_browseButton, &QPushButton::clicked, this, &QuantCalibrationPage::browse);
    connect(m_checkButton, &QPushButton::clicked, this, &QuantCalibrationPage::check);
    connect(wizard->controller(), &QuantizeController::calibrationChecked, this,
            [this](qint64 blocks, qint64 tokens, qint64 used, qint64 skipped, const QString &description,
                   const QStringList &preview) {
                if (!m_awaitingCheck)
                    return; // the source changed since this check was asked for
                m_awaitingCheck = false;
                QString text = tr("%1: %2 blocks, %3 tokens from %4 records (%5 skipped).")
                                   .arg(description)
                                   .arg(blocks)
                                   .arg(tokens)
                                   .arg(used)
                                   .arg(skipped);
                if (const auto &info = m_wizard->modelInfo())
                    text += tr(" Quantizing with it needs about %1.")
                                .arg(bytesText(awq::estimateMemory(info->config, 128, tokens).quantizeCpu));
                showStatus(text, false);
                QStringList numbered;
                for (int i = 0; i < preview.size(); ++i)
                    numbered << tr("%1. %2").arg(i + 1).arg(preview.at(i));
                m_preview->setPlainText(numbered.join(QStringLiteral("\n\n")));
            });
    connect(wizard->controller(), &QuantizeController::calibrationFailed, this, [this](const QString &message) {
        if (!m_awaitingCheck)
            return;
        m_awaitingCheck = false;
        m_preview->clear();
        showStatus(userMessage(message), true);
    });
    updateSourceWidgets();
}

void QuantCalibrationPage::initializePage()
{
    // The built-in set needs no choice: show what it yields right away.
    if (m_builtinRadio->isChecked() && isComplete())
        check();
}

void QuantCalibrationPage::updateJsonFields()
{
    if (!m_jsonlRadio->isChecked())
        return;
    // The keys with string values in the first lines (at most 64 KiB are read here, on the
    // GUI thread: a few milliseconds); the check itself reads the whole file on the worker.
    const QString path = absoluteClean(m_pathEdit->text());
    QFile file(path);
    if (path.isEmpty() || !QFileInfo(path).isFile() || !file.open(QIODevice::ReadOnly))
        return;
    if (path == m_fieldsFile)
        return; // the list already shows this file's fields, and the user's pick stands
    // Another file: the field picked for the previous one does not carry over.
    const bool rememberedFile = m_fieldsFile.isEmpty() && m_jsonFieldCombo->count() == 0; // from the settings
    m_fieldsFile = path;
    QStringList fields;
    const QList<QByteArray> lines = file.read(64 * 1024).split('\n');
    for (int i = 0; i < lines.size() && i < 50; ++i) {
        const QJsonDocument doc = QJsonDocument::fromJson(lines.at(i).trimmed());
        if (!doc.isObject())
            continue;
        const QJsonObject object = doc.object();
        for (auto it = object.begin(); it != object.end(); ++it)
            if (it.value().isString() && !fields.contains(it.key()))
                fields << it.key();
    }
    const QString current = m_jsonFieldCombo->currentText();
    m_jsonFieldCombo->clear();
    if (fields.isEmpty()) {
        m_jsonFieldCombo->setEditText(QStringLiteral("text"));
        return;
    }
    m_jsonFieldCombo->addItems(fields);
    // The remembered field when this is the remembered file and it has it; otherwise the
    // conventional "text", else the file's first string field.
    const QString pick = rememberedFile && fields.contains(current)       ? current
                         : fields.contains(QStringLiteral("text")) ? QStringLiteral("text")
                                                                   : fields.constFirst();
    m_jsonFieldCombo->setCurrentText(pick);
}

void QuantCalibrationPage::updateSourceWidgets()
{
    const bool needsPath = !m_builtinRadio->isChecked();
    m_pathEdit->setEnabled(needsPath);
    m_browseButton->setEnabled(needsPath);
    m_jsonFieldCombo->setEnabled(m_jsonlRadio->isChecked());
    m_awaitingCheck = false;
    m_preview->clear();
    updateJsonFields();
    if (m_builtinRadio->isChecked() && awq::findData(awq::kCalibrationTextPath).empty())
        showStatus(tr("The built-in calibration text %1 is not installed; choose a file.")
                       .arg(QString::fromUtf8(awq::kCalibrationTextPath)),
                   true);
    else
        showStatus(sourceProblem(), !sourceProblem().isEmpty());
    Q_EMIT completeChanged();
}

void QuantCalibrationPage::showStatus(const QString &text, bool error)
{
    setStatus(m_statusLabel, text, error);
}

QString QuantCalibrationPage::sourceProblem() const
{
    if (m_builtinRadio->isChecked())
        return QString();
    const QString path = absoluteClean(m_pathEdit->text());
    if (path.isEmpty())
        return QString(); // nothing typed yet: Next is off, no error to shout about
    const QFileInfo info(path);
    if (!info.exists())
        return tr("%1 does not exist.").arg(QDir::toNativeSeparators(path));
    if (m_folderRadio->isChecked() && !info.isDir())
        return tr("%1 is a file; choose a folder of .txt files.").arg(QDir::toNativeSeparators(path));
    if (!m_folderRadio->isChecked() && !info.isFile())
        return tr("%1 is a folder; choose a file.").arg(QDir::toNativeSeparators(path));
    if (!info.isReadable())
        return tr("%1 cannot be read (permission denied).").arg(QDir::toNativeSeparators(path));
    return QString();
}

bool QuantCalibrationPage::isComplete() const
{
    if (m_builtinRadio->isChecked())
        return !awq::findData(awq::kCalibrationTextPath).empty();
    if (m_pathEdit->text().trimmed().isEmpty() || !sourceProblem().isEmpty())
        return false;
    return !m_jsonlRadio->isChecked() || !m_jsonFieldCombo->currentText().trimmed().isEmpty();
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
        options.source.jsonField = m_jsonFieldCombo->currentText().trimmed().toStdString();
    }
    options.nSamples = m_nSamplesSpin->value();
    options.seqLen = m_seqLenSpin->value();
    return options;
}

void QuantCalibrationPage::load(const awq::CalibrationOptions &o)
{
    using Kind = awq::CalibrationSource::Kind;
    QRadioButton *radio = o.source.kind == Kind::TextFile ? m_textRadio
                          : o.source.kind == Kind::Jsonl  ? m_jsonlRadio
                          : o.source.kind == Kind::Folder ? m_folderRadio
                                                          : m_builtinRadio;
    radio->setChecked(true);
    m_pathEdit->setText(o.source.kind == Kind::Builtin ? QString() : fromPath(o.source.path));
    m_jsonFieldCombo->setEditText(QString::fromStdString(o.source.jsonField));
    m_nSamplesSpin->setValue(int(o.nSamples));
    m_seqLenSpin->setValue(int(o.seqLen));
    updateSourceWidgets();
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
    // A later check supersedes this one (the controller keeps only the newest result).
    m_awaitingCheck = true;
    showStatus(tr("Tokenizing…"), false);
    m_wizard->controller()->checkCalibration(m_wizard->modelFolder(), options);
}

