#pragma once
// BenchmarkPage: the benchmark dashboard. On the left the run's set-up
// (BenchmarkConfigPanel), Run / Cancel with progress, and the results' files (save JSON
// or CSV, load earlier JSON reports to compare, export the charts as PNG); on the right
// the charts (BenchmarkCharts) above the table of rows (BenchmarkTableModel). The run
// itself happens on BenchmarkController's worker thread; errors from the engine and from
// files are shown on the page.

#include <optional>

#include <QVector>
#include <QWidget>

#include "benchmarkcharts.h"
#include "benchmarkresults.h"

QT_BEGIN_NAMESPACE
class QLabel;
class QProgressBar;
class QPushButton;
class QTableView;
QT_END_NAMESPACE

class BenchmarkConfigPanel;
class BenchmarkController;
class BenchmarkTableModel;

class BenchmarkPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BenchmarkPage)

public:
    explicit BenchmarkPage(QWidget *parent = nullptr);
    // Cancels a run in flight and waits for the engine to stop.
    ~BenchmarkPage() override;

    bool isRunning() const;
    // What the charts and the table show: this page's last run first (when there is one),
    // then the reports loaded to compare, in the order they were loaded.
    QVector<BenchmarkRun> runs() const;

public Q_SLOTS:
    // Pre-fills the model folder (and selects it as the source).
    void setModelFolder(const QString &folder);
    // Asks the run in flight to stop (nothing when idle); runningChanged(false) follows
    // once the engine has stopped.
    void cancelRun();

Q_SIGNALS:
    void runningChanged(bool running);
    // While running: the share done and what runs now (the status bar's job indicator).
    void progressChanged(double fraction, const QString &status);

private:
    QWidget *buildLeftColumn();
    QWidget *buildResultsArea();
    void handleRun();
    void handleProgress(double fraction, const QString &status);
    void handleFinished(const awq::bench::BenchReport &report);
    void handleFailed(const QString &message);
    void handleCancelled();
    void handleSaveJson();
    void handleSaveCsv();
    void handleLoadJson();
    void handleClearLoaded();
    void handleExportCharts();
    void handleExportChart(BenchmarkCharts::Kind kind);
    void setRunning(bool running);
    void showRuns();
    void updateButtons();
    void showMessage(const QString &text, bool error);
    // A file name for saving this run: benchmark-<model>-<date>.<suffix> in the last folder used.
    QString suggestedPath(const QString &suffix) const;
    QString withSuffix(const QString &path, const QString &suffix) const;

    BenchmarkController *m_controller = nullptr;
    BenchmarkConfigPanel *m_config = nullptr;
    BenchmarkCharts *m_charts = nullptr;
    BenchmarkTableModel *m_tableModel = nullptr;
    QTableView *m_table = nullptr;
    QPushButton *m_runButton = nullptr;
    QPushButton *m_cancelButton = nullptr;
    QProgressBar *m_progress = nullptr;
    QLabel *m_progressLabel = nullptr;
    QLabel *m_messageLabel = nullptr;
    QLabel *m_summaryLabel = nullptr;
    QPushButton *m_saveJsonButton = nullptr;
    QPushButton *m_saveCsvButton = nullptr;
    QPushButton *m_loadJsonButton = nullptr;
    QPushButton *m_clearLoadedButton = nullptr;
    QPushButton *m_exportChartsButton = nullptr;

    std::optional<BenchmarkRun> m_current; // this page's last finished run
    QVector<BenchmarkRun> m_loaded;         // reports loaded to compare
    QStringList m_loadedPaths;              // the files they came from (same order)
    QString m_lastFolder;                   // where the last file was saved or loaded
    qint64 m_runStartMs = 0;
};
