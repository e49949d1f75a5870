#pragma once
// MainWindow: the application window. A navigation list on the left selects a page in a
// QStackedWidget: Library (recent model folders and the facts of the open one), Quantize
// (the wizard and its finished runs), Chat and Benchmark. The window keeps what persists
// (recent models with their facts, finished runs, geometry, theme) in QSettings and moves
// a model folder between pages ("chat with this", "benchmark this"). Model inspection runs
// on ModelController's worker thread; chat and benchmark pages own their workers.
// GUI thread only.

#include <QMainWindow>
#include <QString>
#include <QStringList>

#include "metatypes.h"

class BenchmarkPage;
class ChatPage;
class JobIndicator;
class QuantizeWizard;
class LibraryPage;
class ModelController;
class ModelPage;
class QuantizeHomePage;
class QDialog;
class ResourceMonitor;
struct QuantizeSummary;
class QLabel;
class QListWidget;
class QMenu;
class QStackedWidget;
class QTimer;

class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    static constexpr int MaxRecentModels = 12;
    static constexpr int MaxQuantizeResults = 20;
    enum class Page { Library, Quantize, Chat, Benchmark };

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Starts inspecting `folder` in the background; the Model page shows progress,
    // then the facts or the error.
    void openModel(const QString &folder);

    ModelController *modelController() const { return m_controller; }
    ModelPage *modelPage() const { return m_modelPage; }
    LibraryPage *libraryPage() const { return m_library; }
    QuantizeHomePage *quantizePage() const { return m_quantizeHome; }
    ChatPage *chatPage() const { return m_chatPage; }
    BenchmarkPage *benchmarkPage() const { return m_benchmarkPage; }
    // The status bar's running-job indicator (mainwindowjobs.cpp).
    JobIndicator *jobIndicator() const { return m_jobs; }
    Page currentPage() const;
    void showPage(Page page);
    // Most recent first, as persisted in QSettings.
    QStringList recentModels() const;
    // What would be lost by quitting now ("a quantization", "a benchmark", "a chat reply").
    QStringList runningJobs() const;

public Q_SLOTS:
    void showOpenModelDialog();
    void showAbout();
    // Opens the quantization wizard on `folder` (the open model when empty).
    void startQuantizeWizard(const QString &folder = QString());
    // Switches to Chat and loads `folder` there.
    void openInChat(const QString &folder);
    // Switches to Benchmark with `folder` as the model to measure.
    void openInBenchmark(const QString &folder);
    // The memory window: the status bar monitor's history as a chart, kept up to date.
    void showMemoryChart();

protected:
    void changeEvent(QEvent *event) override;
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void createMenus();
    void addPage(const QString &title, QWidget *page, const QString &toolTip);
    void recordQuantizeResult(const QuantizeSummary &summary, const QString &source);
    void refreshLibrary();
    void loadChatModelIfNeeded();
    void removeRecentModel(const QString &folder);
    void handleInspectionStarted(const QString &folder);
    void handleModelInspected(const awq::ModelInfo &info, qint64 elapsedMs);
    void handleInspectionFailed(const QString &folder, const QString &message);
    void addRecentModel(const QString &folder);
    void rebuildRecentMenu();
    void updateTitle(const QString &folder);
    // The window title and the status bar's model label for the page shown.
    void showModelInUse();
    void applyNavigationStyle();
    // Closing with jobs running: asks; Yes stops them and closes once they have stopped.
    bool confirmStopJobs(const QStringList &jobs);
    void stopJobsThenClose();
    // The job indicator follows the chat sessions and the benchmark (watchJobs) and each
    // quantization wizard (watchWizard): what runs, its progress, where it is shown.
    void watchJobs();
    void watchWizard(QuantizeWizard *wizard);

    ModelController *m_controller = nullptr;
    QListWidget *m_navigation = nullptr;
    QStackedWidget *m_pages = nullptr;
    LibraryPage *m_library = nullptr;
    ModelPage *m_modelPage = nullptr; // inside m_library
    QuantizeHomePage *m_quantizeHome = nullptr;
    ChatPage *m_chatPage = nullptr;
    BenchmarkPage *m_benchmarkPage = nullptr;
    QMenu *m_recentMenu = nullptr;
    QLabel *m_statusModel = nullptr; // permanent status-bar label: the model in use
    QString m_libraryFolder;         // the Library's open model
    QString m_libraryStatus;         // its facts, for the status bar
    ResourceMonitor *m_monitor = nullptr;
    QDialog *m_memoryWindow = nullptr; // created on first use
    bool m_restylingNavigation = false;
    QTimer *m_quitTimer = nullptr;     // while stopping jobs to quit: closes once they have stopped
    JobIndicator *m_jobs = nullptr;
};
