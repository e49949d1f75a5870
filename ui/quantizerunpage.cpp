#include "quantizepages.h"
#include "layerlosschart.h"
#include "resourcechart.h"
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
#include <QTabWidget>
#include <QTimer>
#include <QVBoxLayout>

#include "awq/core/error.h"
#include "awq/runtime/resources.h"
#include "quantizewizard.h"
#include "quantizeworker.h"

using namespace quantui;

// ---------------------------------------------------------------------------- Output

QuantOutputPage::QuantOutputPage(QuantizeWizard *wizard) : QWizardPage(wizard), m_wizard(wizard)
{
    setTitle(tr("Output"));
    setSubTitle(tr("The folder the quantized model is written to. It appears only once complete."));

    m_pathEdit = new QLineEdit(this);
    m_pathEdit->setObjectName(QStringLiteral("outputPathEdit"));
    auto *browseButton = new QPushButton(tr("Browse…"), this);
    browseButton->setObjectName(QStringLiteral("outputBrowseButton"));
    m_overwriteCheck = new QCheckBox(tr("Overwrite when finished (the existing folder is replaced only after "
                                        "the new model is complete)"),
                                     this);
    m_overwriteCheck->setObjectName(QStringLiteral("overwriteCheck"));
    m_overwriteCheck->setVisible(false);
    m_statusLabel = makeStatusLabel(QStringLiteral("outputStatusLabel"), this);

    auto *row = new QHBoxLayout;
    row->addWidget(m_pathEdit, 1);
    row->addWidget(browseButton);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(row);
    layout->addWidget(m_overwriteCheck);
    layout->addWidget(m_statusLabel);
    layout->addStretch(1);

    connect(m_pathEdit, &QLineEdit::textChanged, this, &QuantOutputPage::revalidate);
    connect(m_overwriteCheck, &QCheckBox::toggled, this, &QuantOutputPage::revalidate);
    connect(browseButton, &QPushButton::clicked, this, &QuantOutputPage::browse);
}

void QuantOutputPage::initializePage()
{
    if (m_pathEdit->text().trimmed().isEmpty()) {
        awq::QuantOptions options = m_wizard->options();
        const QString suffix = options.format == awq::OutputFormat::Packed
                                   ? QStringLiteral("-awq-w%1-g%2").arg(options.quantizer.bits).arg(options.quantizer.groupSize)
                                   : QStringLiteral("-%1-w%2").arg(QString::fromUtf8(awq::outputFormatName(options.format))).arg(options.quantizer.bits);
        m_pathEdit->setText(QDir::toNativeSeparators(defaultOutputParent(m_wizard->modelFolder()) + QLatin1Char('/')
                                                     + QFileInfo(m_wizard->modelFolder()).fileName() + suffix));
    }
    revalidate();
}

bool QuantOutputPage::isComplete() const
{
    return m_ok;
}

QString QuantOutputPage::folder() const
{
    return absoluteClean(m_pathEdit->text());
}

bool QuantOutputPage::overwrite() const
{
    return m_overwriteCheck->isVisible() && m_overwriteCheck->isChecked();
}

void QuantOutputPage::browse()
{
    const QString chosen = QFileDialog::getExistingDirectory(this, tr("Output Folder"), m_pathEdit->text());
    if (!chosen.isEmpty())
        m_pathEdit->setText(QDir::toNativeSeparators(chosen));
}

void QuantOutputPage::revalidate()
{
    m_ok = false;
    const QString path = folder();
    const QFileInfo fileInfo(path);
    const bool existsNonEmpty =
        fileInfo.isDir() && !QDir(path).entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::Hidden).isEmpty();
    m_overwriteCheck->setVisible(existsNonEmpty);
    if (path.isEmpty()) {
        setStatus(m_statusLabel, tr("Choose an output folder."), false);
    } else if (path == m_wizard->modelFolder()) {
        setStatus(m_statusLabel, tr("The output folder must differ from the model folder %1.").arg(path), true);
    } else if (fileInfo.exists() && !fileInfo.isDir()) {
        setStatus(m_statusLabel, tr("%1 is a file, not a folder.").arg(path), true);
    } else if (!canCreateIn(existsNonEmpty ? fileInfo.absolutePath() : path)) {
        // Checked now, not after the whole run (the new folder is written beside its final
        // place, then renamed).
        setStatus(m_statusLabel, tr("%1 cannot be written here (read-only or no permission). Choose another folder.")
                                     .arg(QDir::toNativeSeparators(path)),
                  true);
    } else if (existsNonEmpty && !m_overwriteCheck->isChecked()) {
        setStatus(m_statusLabel,
                  tr("%1 exists and is not empty. Tick \"Overwrite when finished\" to replace it, or choose "
                     "another folder.")
                      .arg(path),
                  true);
    } else {
        try {
            const std::optional<awq::ModelInfo> &info = m_wizard->modelInfo();
            if (info)
                m_wizard->options().validate(info->config);
            setStatus(m_statusLabel,
                      existsNonEmpty ? tr("%1 will be replaced once the new model is complete.").arg(path)
                                     : tr("The model will be written to %1.").arg(path),
                      false);
            m_ok = info.has_value();
        } catch (const std::exception &error) {
            setStatus(m_statusLabel, userMessage(error), true);
        }
    }
    Q_EMIT completeChanged();
}

// ---------------------------------------------------------------------------- Run

QuantRunPage::QuantRunPage(QuantizeWizard *wizard) : QWizardPage(wizard), m_wizard(wizard)
{
    setTitle(tr("Run"));
    setSubTitle(tr("Quantize layer by layer. Cancelling leaves nothing behind."));

    m_progress = new QProgressBar(this);
    m_progress->setObjectName(QStringLiteral("runProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setFormat(QStringLiteral("%p%"));
    m_phaseLabel = makeStatusLabel(QStringLiteral("runPhaseLabel"), this);
    m_layerLabel = makeStatusLabel(QStringLiteral("runLayerLabel"), this);
    m_detailLabel = makeStatusLabel(QStringLiteral("runDetailLabel"), this);
    m_etaLabel = makeStatusLabel(QStringLiteral("runEtaLabel"), this);
    m_memoryLabel = makeStatusLabel(QStringLiteral("runMemoryLabel"), this);
    m_log = new QPlainTextEdit(this);
    m_log->setObjectName(QStringLiteral("runLog"));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(100000);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);
    m_lossChart = new LayerLossChart(this);
    m_memoryChart = new ResourceChart(this);
    m_memoryTimer = new QTimer(this);
    m_memoryTimer->setInterval(500);
    connect(m_memoryTimer, &QTimer::timeout, this,
            [this] { m_memoryChart->addSample(ResourceMonitor::sampleNow(m_runClock.elapsed())); });
    m_startButton = new QPushButton(tr("Start"), this);
    m_startButton->setObjectName(QStringLiteral("startButton"));
    m_cancelButton = new QPushButton(tr("Cancel Run"), this);
    m_cancelButton->setObjectName(QStringLiteral("cancelButton"));
    m_cancelButton->setEnabled(false);
    m_resultLabel = makeStatusLabel(QStringLiteral("runResultLabel"), this);
    m_chatButton = new QPushButton(tr("Open in Chat"), this);
    m_chatButton->setObjectName(QStringLiteral("runChatButton"));
    m_chatButton->setToolTip(tr("Load the quantized model in the Chat page"));
    m_benchmarkButton = new QPushButton(tr("Benchmark It"), this);
    m_benchmarkButton->setObjectName(QStringLiteral("runBenchmarkButton"));
    m_benchmarkButton->setToolTip(tr("Compare its speed and memory (and perplexity) with full precision "
                                     "in the Benchmark page"));
    m_perplexityButton = new QPushButton(tr("Compare Perplexity"), this);
    m_perplexityButton->setObjectName(QStringLiteral("runPerplexityButton"));
    m_perplexityButton->setToolTip(tr("Perplexity of the original and the quantized model on the bundled held-out "
                                      "text (up to %1 windows)")
                                       .arg(QuantizeWorker::kPerplexityWindows));
    m_perplexityLabel = makeStatusLabel(QStringLiteral("runPerplexityLabel"), this);

    auto *grid = new QGridLayout;
    grid->addWidget(new QLabel(tr("Step:"), this), 0, 0);
    grid->addWidget(m_phaseLabel, 0, 1);
    grid->addWidget(new QLabel(tr("Layer:"), this), 1, 0);
    grid->addWidget(m_layerLabel, 1, 1);
    grid->addWidget(new QLabel(tr("Detail:"), this), 2, 0);
    grid->addWidget(m_detailLabel, 2, 1);
    grid->addWidget(new QLabel(tr("Time left:"), this), 3, 0);
    grid->addWidget(m_etaLabel, 3, 1);
    grid->addWidget(new QLabel(tr("Memory:"), this), 4, 0);
    grid->addWidget(m_memoryLabel, 4, 1);
    grid->setColumnStretch(1, 1);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_startButton);
    buttons->addWidget(m_cancelButton);
    buttons->addStretch(1);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(buttons);
    layout->addWidget(m_progress);
    layout->addLayout(grid);
    auto *charts = new QTabWidget(this);
    charts->setObjectName(QStringLiteral("runCharts"));
    charts->addTab(m_lossChart, tr("Per-layer error"));
    charts->addTab(m_memoryChart, tr("Memory"));
    auto *live = new QHBoxLayout;
    live->addWidget(charts, 3);
    live->addWidget(m_log, 2);
    layout->addLayout(live, 1);
    layout->addWidget(m_resultLabel);
    auto *after = new QHBoxLayout;
    after->addWidget(m_chatButton);
    after->addWidget(m_benchmarkButton);
    after->addWidget(m_perplexityButton);
    after->addWidget(m_perplexityLabel, 1);
    layout->addLayout(after);
    for (QPushButton *button : {m_chatButton, m_benchmarkButton, m_perplexityButton})
        button->setVisible(false);
    connect(m_perplexityButton, &QPushButton::clicked, this, [this] {
        if (m_wizard->controller()->isMeasuring()) {
            m_wizard->controller()->cancel();
            return;
        }
        m_perplexityButton->setText(tr("Stop Measuring"));
        setStatus(m_perplexityLabel, tr("Loading…"), false);
        m_wizard->controller()->comparePerplexity(m_wizard->modelFolder(), m_outputFolder);
    });
    QuantizeController *measurer = wizard->controller();
    connect(measurer, &QuantizeController::perplexityProgress, this,
            [this](const QString &which, qint64 done, qint64 total) {
                setStatus(m_perplexityLabel, tr("Perplexity of the %1 model: window %2 of %3…").arg(which).arg(done).arg(total),
                          false);
            });
    connect(measurer, &QuantizeController::perplexityMeasured, this,
            [this](double original, double quantized, qint64 windows, qint64 seqLen) {
                m_perplexityButton->setText(tr("Compare Perplexity"));
                setStatus(m_perplexityLabel,
                          tr("Perplexity: original %1 → quantized %2 (%3%4 %) on %5 windows of %6 held-out tokens")
                              .arg(original, 0, 'f', 2)
                              .arg(quantized, 0, 'f', 2)
                              .arg(quantized >= original ? QStringLiteral("+") : QString())
                              .arg(100.0 * (quantized / original - 1.0), 0, 'f', 2)
                              .arg(windows)
                              .arg(seqLen),
                          false);
            });
    connect(measurer, &QuantizeController::perplexityFailed, this, [this](const QString &message) {
        m_perplexityButton->setText(tr("Compare Perplexity"));
        setStatus(m_perplexityLabel, message.contains(QStringLiteral("cancelled")) ? tr("Measurement stopped.")
                                                                                     : tr("Could not measure: %1").arg(userMessage(message)),
                  !message.contains(QStringLiteral("cancelled")));
    });
    connect(m_chatButton, &QPushButton::clicked, this, [this] { Q_EMIT chatRequested(m_outputFolder); });
    connect(m_benchmarkButton, &QPushButton::clicked, this, [this] { Q_EMIT benchmarkRequested(m_outputFolder); });

    connect(m_startButton, &QPushButton::clicked, this, &QuantRunPage::start);
    connect(m_cancelButton, &QPushButton::clicked, this, &QuantRunPage::requestCancel);
    QuantizeController *controller = wizard->controller();
    connect(controller, &QuantizeController::progress, this, &QuantRunPage::handleProgress);
    connect(controller, &QuantizeController::groupLoss, this,
            [this](qint64 layer, const QString &group, double rtnLoss, double awqLoss) {
                m_lossChart->addGroupLoss(layer, rtnLoss, awqLoss);
                m_log->appendPlainText(tr("layer %1 %2: RTN %3 -> AWQ %4")
                                           .arg(layer)
                                           .arg(group)
                                           .arg(rtnLoss, 0, 'g', 4)
                                           .arg(awqLoss, 0, 'g', 4));
            });
    connect(controller, &QuantizeController::finished, this, &QuantRunPage::handleFinished);
    connect(controller, &QuantizeController::failed, this, &QuantRunPage::handleFailed);
    connect(controller, &QuantizeController::cancelled, this, &QuantRunPage::handleCancelled);
}

void QuantRunPage::initializePage()
{
    m_succeeded = false;
    for (QPushButton *button : {m_chatButton, m_benchmarkButton, m_perplexityButton})
        button->setVisible(false);
    m_perplexityLabel->clear();
    m_progress->setValue(0);
    for (QLabel *label : {m_phaseLabel, m_layerLabel, m_detailLabel, m_etaLabel, m_memoryLabel})
        label->clear();
    m_log->clear();
    m_lossChart->clear();
    const awq::QuantOptions options = m_wizard->options();
    setStatus(m_resultLabel,
              tr("Ready: %1, %2-bit, group %3, %4 output to %5.")
                  .arg(QString::fromUtf8(awq::methodName(options.method)).toUpper())
                  .arg(options.quantizer.bits)
                  .arg(options.quantizer.groupSize)
                  .arg(QString::fromUtf8(awq::outputFormatName(options.format)), fromPath(options.outputFolder)),
              false);
    setRunning(false);
    Q_EMIT completeChanged();
}

void QuantRunPage::start()
{
    if (m_wizard->isRunning())
        return;
    const std::optional<awq::ModelInfo> &info = m_wizard->modelInfo();
    m_inputWeightBytes = info ? info->weightBytes : 0;
    m_succeeded = false;
    m_cancelRequested = false;
    m_progress->setValue(0);
    m_log->clear();
    m_lossChart->clear();
    m_memoryChart->clear();
    m_runClock.start();
    m_memoryChart->addSample(ResourceMonitor::sampleNow(0));
    m_wizard->saveSettings();
    setStatus(m_resultLabel, tr("Running…"), false);
    m_wizard->controller()->start(m_wizard->options());
    setRunning(true);
    Q_EMIT completeChanged();
}

void QuantRunPage::setRunning(bool running)
{
    m_startButton->setEnabled(!running && !m_succeeded);
    if (running)
        m_memoryTimer->start();
    else
        m_memoryTimer->stop();
    m_cancelButton->setEnabled(running);
    // No going back to change the options under a running job.
    m_wizard->setOption(QWizard::DisabledBackButtonOnLastPage, running);
    if (QAbstractButton *back = m_wizard->button(QWizard::BackButton))
        back->setEnabled(!running);
}

bool QuantRunPage::requestCancel()
{
    if (!m_wizard->isRunning())
        return true;
    if (m_wizard->confirmCancel()) {
        const auto answer = QMessageBox::question(
            this, tr("Cancel Quantization"),
            tr("Stop the quantization? Nothing is written; the run has to start over."),
            QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
        if (answer != QMessageBox::Yes || !m_wizard->isRunning())
            return false;
    }
    m_cancelRequested = true;
    m_cancelButton->setEnabled(false);
    setStatus(m_resultLabel, tr("Cancelling…"), false);
    m_wizard->controller()->cancel();
    return true;
}

void QuantRunPage::handleProgress(const QString &phase, qint64 layer, qint64 layers, const QString &detail,
                                  double fraction, double etaSeconds, quint64 rssBytes, quint64 peakRssBytes)
{
    m_progress->setValue(int(qBound(0.0, fraction, 1.0) * 1000.0 + 0.5));
    m_phaseLabel->setText(phase);
    m_layerLabel->setText(layer >= 0 ? tr("%1 of %2").arg(layer + 1).arg(layers) : QString());
    m_detailLabel->setText(detail);
    m_etaLabel->setText(etaSeconds >= 0 ? durationText(etaSeconds) : tr("estimating…"));
    m_memoryLabel->setText(tr("RSS %1, peak %2").arg(bytesText(rssBytes), bytesText(peakRssBytes)));
}

void QuantRunPage::handleFinished(const QuantizeSummary &summary)
{
    m_succeeded = true;
    m_progress->setValue(m_progress->maximum());
    m_etaLabel->setText(tr("done"));
    QString text = tr("Finished in %1 (calibration %2, search %3, writing %4). Output %5: %6 of weights")
                       .arg(durationText(summary.seconds), durationText(summary.calibrationSeconds),
                            durationText(summary.searchSeconds), durationText(summary.writeSeconds),
                            summary.outputFolder, bytesText(summary.outputBytes));
    if (summary.outputBytes > 0 && m_inputWeightBytes > 0)
        text += tr(", %1× smaller than the input's %2")
                    .arg(double(m_inputWeightBytes) / double(summary.outputBytes), 0, 'f', 2)
                    .arg(bytesText(m_inputWeightBytes));
    text += tr(". Peak memory %1.").arg(bytesText(summary.peakRssBytes));
    setStatus(m_resultLabel, text, false);
    m_outputFolder = summary.outputFolder;
    for (QPushButton *button : {m_chatButton, m_benchmarkButton, m_perplexityButton})
        button->setVisible(true);

    setRunning(false);
    Q_EMIT completeChanged();
}

void QuantRunPage::handleFailed(const QString &engineMessage)
{
    const QString message = userMessage(engineMessage);
    m_etaLabel->clear(); // the bar stays where the run stopped; no time is left
    setStatus(m_resultLabel, tr("Quantization failed: %1").arg(message), true);
    m_log->appendPlainText(tr("failed: %1").arg(message));
    setRunning(false);
}

void QuantRunPage::handleCancelled()
{
    // Nothing of the run is kept, so neither are its progress and time left.
    m_progress->setValue(0);
    for (QLabel *label : {m_phaseLabel, m_layerLabel, m_detailLabel, m_etaLabel})
        label->clear();
    setStatus(m_resultLabel, tr("Cancelled. Nothing was written."), false);
    m_log->appendPlainText(tr("cancelled"));
    setRunning(false);
}
