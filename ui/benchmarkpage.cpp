#include "benchmarkpage.h"

#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSplitter>
#include <QStandardPaths>
#include <QTableView>
#include <QVBoxLayout>

#include "benchmarkconfigpanel.h"
#include "benchmarktablemodel.h"
#include "benchmarkworker.h"
#include "theme.h"

namespace {

QLabel *makeTextLabel(const char *name, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setObjectName(QString::fromLatin1(name));
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

QPushButton *makeButton(const QString &text, const char *name, QWidget *parent)
{
    auto *button = new QPushButton(text, parent);
    button->setObjectName(QString::fromLatin1(name));
    return button;
}

} // namespace

BenchmarkPage::BenchmarkPage(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("benchmarkPage"));
    m_controller = new BenchmarkController(this);
    m_lastFolder = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);

    auto *splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(buildLeftColumn());
    splitter->addWidget(buildResultsArea());
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setChildrenCollapsible(false);
    auto *layout = new QHBoxLayout(this);
    layout->addWidget(splitter);

    connect(m_controller, &BenchmarkController::progress, this, &BenchmarkPage::handleProgress);
    connect(m_controller, &BenchmarkController::finished, this, &BenchmarkPage::handleFinished);
    connect(m_controller, &BenchmarkController::failed, this, &BenchmarkPage::handleFailed);
    connect(m_controller, &BenchmarkController::cancelled, this, &BenchmarkPage::handleCancelled);
    connect(m_config, &BenchmarkConfigPanel::validityChanged, this, &BenchmarkPage::updateButtons);
    connect(m_charts, &BenchmarkCharts::exportRequested, this, &BenchmarkPage::handleExportChart);
    showRuns();
    setRunning(false);
}

BenchmarkPage::~BenchmarkPage() = default; // m_controller cancels and joins its thread

QWidget *BenchmarkPage::buildLeftColumn()
{
    auto *column = new QWidget;
    m_config = new BenchmarkConfigPanel(column);

    auto *runBox = new QGroupBox(tr("Run"), column);
    m_runButton = makeButton(tr("Run Benchmark"), "runButton", runBox);
    m_runButton->setDefault(true);
    m_cancelButton = makeButton(tr("Cancel"), "cancelButton", runBox);
    m_progress = new QProgressBar(runBox);
    m_progress->setObjectName(QStringLiteral("benchmarkProgress"));
    m_progress->setRange(0, 1000);
    m_progress->setValue(0);
    m_progress->setTextVisible(false);
    m_progressLabel = makeTextLabel("benchmarkStatusLabel", runBox);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_runButton, 1);
    buttons->addWidget(m_cancelButton);
    auto *runLayout = new QVBoxLayout(runBox);
    runLayout->addLayout(buttons);
    runLayout->addWidget(m_progress);
    runLayout->addWidget(m_progressLabel);

    auto *filesBox = new QGroupBox(tr("Results"), column);
    m_saveJsonButton = makeButton(tr("Save JSON…"), "saveJsonButton", filesBox);
    m_saveCsvButton = makeButton(tr("Save CSV…"), "saveCsvButton", filesBox);
    m_exportChartsButton = makeButton(tr("Charts PNG…"), "exportChartsButton", filesBox);
    m_loadJsonButton = makeButton(tr("Load JSON to Compare…"), "loadJsonButton", filesBox);
    m_clearLoadedButton = makeButton(tr("Remove Loaded"), "clearLoadedButton", filesBox);
    m_saveJsonButton->setToolTip(tr("The whole report of this run (plan, machine, builds, rows, perplexity)"));
    m_saveCsvButton->setToolTip(tr("One line per row of this run"));
    m_loadJsonButton->setToolTip(tr("Reports saved here or by awq bench --json show next to this run"));
    m_exportChartsButton->setToolTip(tr("Writes the four charts and their legend as one PNG image (right-click a "
                                        "chart to save just that one)"));
    auto *filesLayout = new QGridLayout(filesBox);
    filesLayout->addWidget(m_saveJsonButton, 0, 0);
    filesLayout->addWidget(m_saveCsvButton, 0, 1);
    filesLayout->addWidget(m_exportChartsButton, 0, 2);
    filesLayout->addWidget(m_loadJsonButton, 1, 0, 1, 2);
    filesLayout->addWidget(m_clearLoadedButton, 1, 2);

    m_messageLabel = makeTextLabel("messageLabel", column);

    auto *layout = new QVBoxLayout(column);
    layout->setContentsMargins(0, 0, 4, 0);
    layout->addWidget(m_config);
    layout->addWidget(runBox);
    layout->addWidget(filesBox);
    layout->addWidget(m_messageLabel);
    layout->addStretch(1);

    connect(m_runButton, &QPushButton::clicked, this, &BenchmarkPage::handleRun);
    connect(m_cancelButton, &QPushButton::clicked, this, &BenchmarkPage::cancelRun);
    connect(m_saveJsonButton, &QPushButton::clicked, this, &BenchmarkPage::handleSaveJson);
    connect(m_saveCsvButton, &QPushButton::clicked, this, &BenchmarkPage::handleSaveCsv);
    connect(m_loadJsonButton, &QPushButton::clicked, this, &BenchmarkPage::handleLoadJson);
    connect(m_clearLoadedButton, &QPushButton::clicked, this, &BenchmarkPage::handleClearLoaded);
    connect(m_exportChartsButton, &QPushButton::clicked, this, &BenchmarkPage::handleExportCharts);

    // The set-up scrolls on small screens; the column keeps the width its contents ask for.
    auto *scroll = new QScrollArea;
    scroll->setObjectName(QStringLiteral("benchmarkSetupScroll"));
    scroll->setWidget(column);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setMinimumWidth(column->sizeHint().width() + scroll->verticalScrollBar()->sizeHint().width());
    return scroll;
}

QWidget *BenchmarkPage::buildResultsArea()
{
    m_charts = new BenchmarkCharts;
    m_charts->setObjectName(QStringLiteral("benchmarkCharts"));

    auto *tableArea = new QWidget;
    m_summaryLabel = makeTextLabel("runSummaryLabel", tableArea);
    m_tableModel = new BenchmarkTableModel(this);
    m_table = new QTableView(tableArea);
    m_table->setObjectName(QStringLiteral("resultsTable"));
    m_table->setModel(m_tableModel);
    m_table->setAlternatingRowColors(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->setVisible(false);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->horizontalHeader()->setStretchLastSection(true);
    auto *tableLayout = new QVBoxLayout(tableArea);
    tableLayout->setContentsMargins(0, 0, 0, 0);
    tableLayout->addWidget(m_summaryLabel);
    tableLayout->addWidget(m_table, 1);

    // Below the charts' minimum size (a small window) they scroll rather than being cut.
    auto *chartsScroll = new QScrollArea;
    chartsScroll->setObjectName(QStringLiteral("benchmarkChartsScroll"));
    chartsScroll->setWidget(m_charts);
    chartsScroll->setWidgetResizable(true);
    chartsScroll->setFrameShape(QFrame::NoFrame);
    auto *splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(chartsScroll);
    splitter->addWidget(tableArea);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setChildrenCollapsible(false);
    return splitter;
}

bool BenchmarkPage::isRunning() const
{
    return m_controller->isRunning();
}

QVector<BenchmarkRun> BenchmarkPage::runs() const
{
    QVector<BenchmarkRun> all;
    if (m_current)
        all.push_back(*m_current);
    all += m_loaded;
    return all;
}

void BenchmarkPage::setModelFolder(const QString &folder)
{
    m_config->setModelFolder(folder);
}

void BenchmarkPage::handleRun()
{
    if (isRunning() || !m_config->isValid())
        return;
    const BenchmarkRequest request = m_config->request();
    showMessage(QString(), false);
    m_progress->setValue(0);
    m_progressLabel->setText(tr("Starting…"));
    m_runStartMs = QDateTime::currentMSecsSinceEpoch();
    m_controller->start(request);
    setRunning(true);
}

void BenchmarkPage::cancelRun()
{
    if (!isRunning())
        return;
    m_controller->cancel();
    m_cancelButton->setEnabled(false);
    m_progressLabel->setText(tr("Cancelling…"));
}

void BenchmarkPage::handleProgress(double fraction, const QString &status)
{
    if (!isRunning())
        return; // a late event of a run that has ended
    m_progress->setValue(qRound(std::clamp(fraction, 0.0, 1.0) * m_progress->maximum()));
    if (m_cancelButton->isEnabled())
        m_progressLabel->setText(status);
    Q_EMIT progressChanged(fraction, status);
}

void BenchmarkPage::handleFinished(const awq::bench::BenchReport &report)
{
    BenchmarkRun run;
    run.label = tr("This run");
    run.report = report;
    m_current = run;
    setRunning(false);
    m_progress->setValue(m_progress->maximum());
    const double seconds = static_cast<double>(QDateTime::currentMSecsSinceEpoch() - m_runStartMs) / 1000.0;
    const QString rows = report.rows.size() == 1 ? tr("1 row") : tr("%1 rows").arg(report.rows.size());
    m_progressLabel->setText(tr("Finished: %1 in %2 s.").arg(rows, QString::number(seconds, 'f', 1)));
    showRuns();
}

void BenchmarkPage::handleFailed(const QString &message)
{
    setRunning(false);
    m_progress->setValue(0);
    m_progressLabel->setText(tr("Failed."));
    showMessage(message, true);
}

void BenchmarkPage::handleCancelled()
{
    setRunning(false);
    m_progress->setValue(0);
    m_progressLabel->setText(m_current ? tr("Cancelled; the results shown are from the previous run.")
                                       : tr("Cancelled."));
}

void BenchmarkPage::handleSaveJson()
{
    if (!m_current)
        return;
    const QString chosen = QFileDialog::getSaveFileName(this, tr("Save Benchmark Results as JSON"),
                                                        suggestedPath(QStringLiteral("json")),
                                                        tr("JSON files (*.json);;All files (*)"));
    if (chosen.isEmpty())
        return;
    const QString path = withSuffix(chosen, QStringLiteral("json"));
    QString error;
    if (BenchmarkResults::saveJson(m_current->report, path, &error))
        showMessage(tr("Saved %1.").arg(QDir::toNativeSeparators(path)), false);
    else
        showMessage(error, true);
}

void BenchmarkPage::handleSaveCsv()
{
    if (!m_current)
        return;
    const QString chosen =
        QFileDialog::getSaveFileName(this, tr("Save Benchmark Rows as CSV"), suggestedPath(QStringLiteral("csv")),
                                     tr("CSV files (*.csv);;All files (*)"));
    if (chosen.isEmpty())
        return;
    const QString path = withSuffix(chosen, QStringLiteral("csv"));
    QString error;
    if (BenchmarkResults::saveCsv(m_current->report, path, &error))
        showMessage(tr("Saved %1.").arg(QDir::toNativeSeparators(path)), false);
    else
        showMessage(error, true);
}

void BenchmarkPage::handleLoadJson()
{
    const QStringList chosen = QFileDialog::getOpenFileNames(this, tr("Load Benchmark Results"), m_lastFolder,
                                                             tr("JSON files (*.json);;All files (*)"));
    if (chosen.isEmpty())
        return;
    QStringList errors, loadedNames;
    for (const QString &path : chosen) {
        m_lastFolder = QFileInfo(path).absolutePath();
        QString error;
        std::optional<BenchmarkRun> run = BenchmarkResults::loadRun(path, &error);
        if (!run) {
            errors << error;
            continue;
        }
        // Loading the same file again refreshes it rather than adding a copy.
        const QString absolute = QFileInfo(path).absoluteFilePath();
        const qsizetype existing = m_loadedPaths.indexOf(absolute);
        if (existing >= 0) {
            m_loaded[existing] = *run;
        } else {
            m_loaded.push_back(*run);
            m_loadedPaths.push_back(absolute);
        }
        loadedNames << run->label;
    }
    showRuns();
    if (!errors.isEmpty())
        showMessage(errors.join(QLatin1Char('\n')), true);
    else
        showMessage(tr("Loaded %1 to compare.").arg(loadedNames.join(QStringLiteral(", "))), false);
}

void BenchmarkPage::handleClearLoaded()
{
    m_loaded.clear();
    m_loadedPaths.clear();
    showRuns();
    showMessage(QString(), false);
}

void BenchmarkPage::handleExportCharts()
{
    const QString chosen = QFileDialog::getSaveFileName(this, tr("Export Charts as PNG"),
                                                        QDir(m_lastFolder).filePath(QStringLiteral("benchmark-charts.png")),
                                                        tr("PNG images (*.png)"));
    if (chosen.isEmpty())
        return;
    const QString path = withSuffix(chosen, QStringLiteral("png"));
    m_lastFolder = QFileInfo(path).absolutePath();
    QString error;
    if (m_charts->exportAllPng(path, &error))
        showMessage(tr("Wrote %1.").arg(QDir::toNativeSeparators(path)), false);
    else
        showMessage(error, true);
}

void BenchmarkPage::handleExportChart(BenchmarkCharts::Kind kind)
{
    const QString chosen = QFileDialog::getSaveFileName(
        this, tr("Export Chart as PNG"), QDir(m_lastFolder).filePath(BenchmarkCharts::fileStem(kind) + ".png"),
        tr("PNG images (*.png)"));
    if (chosen.isEmpty())
        return;
    const QString path = withSuffix(chosen, QStringLiteral("png"));
    m_lastFolder = QFileInfo(path).absolutePath();
    QString error;
    if (m_charts->exportPng(kind, path, &error))
        showMessage(tr("Wrote %1.").arg(QDir::toNativeSeparators(path)), false);
    else
        showMessage(error, true);
}

void BenchmarkPage::setRunning(bool running)
{
    m_config->setEnabled(!running);
    m_cancelButton->setEnabled(running);
    updateButtons();
    Q_EMIT runningChanged(running);
}

void BenchmarkPage::updateButtons()
{
    const bool running = isRunning();
    m_runButton->setEnabled(!running && m_config->isValid());
    m_saveJsonButton->setEnabled(m_current.has_value());
    m_saveCsvButton->setEnabled(m_current.has_value());
    m_clearLoadedButton->setEnabled(!m_loaded.isEmpty());
    m_exportChartsButton->setEnabled(m_current.has_value() || !m_loaded.isEmpty());
}

void BenchmarkPage::showRuns()
{
    const QVector<BenchmarkRun> all = runs();
    m_tableModel->setRuns(all);
    m_charts->setRuns(all);
    m_table->setColumnHidden(BenchmarkTableModel::RunColumn, all.size() <= 1);
    m_table->setColumnHidden(BenchmarkTableModel::PerplexityColumn, !m_tableModel->hasPerplexity());
    QStringList lines;
    for (const BenchmarkRun &run : all) {
        const auto &r = run.report;
        lines << tr("%1: %2 — %3, %4 threads, int4 kernels %5; %6 warm-up, best of %7; %8")
                     .arg(run.label, QString::fromStdString(r.model), QString::fromStdString(r.machine.cpuModel))
                     .arg(r.machine.threads)
                     .arg(QString::fromStdString(r.machine.isa))
                     .arg(r.plan.warmup)
                     .arg(r.plan.repeats)
                     .arg(QString::fromStdString(r.date));
    }
    m_summaryLabel->setText(lines.isEmpty() ? tr("No results yet: run a benchmark, or load earlier results to "
                                                 "compare.")
                                            : lines.join(QLatin1Char('\n')));
    updateButtons();
}

void BenchmarkPage::showMessage(const QString &text, bool error)
{
    m_messageLabel->setText(text);
    m_messageLabel->setProperty("error", error);
    Theme::setTone(m_messageLabel, error ? Theme::Tone::Error : Theme::Tone::Normal);
}

QString BenchmarkPage::suggestedPath(const QString &suffix) const
{
    QString model = QStringLiteral("results");
    if (m_current) {
        const auto &plan = m_current->report.plan;
        model = plan.syntheticShape.empty()
                    ? QFileInfo(QFile::decodeName(QByteArray::fromStdString(plan.modelFolder.string()))).fileName()
                    : QString::fromStdString(plan.syntheticShape);
    }
    const QString date = QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmm"));
    return QDir(m_lastFolder).filePath(QStringLiteral("benchmark-%1-%2.%3").arg(model, date, suffix));
}

QString BenchmarkPage::withSuffix(const QString &path, const QString &suffix) const
{
    return QFileInfo(path).suffix().isEmpty() ? path + QLatin1Char('.') + suffix : path;
}
