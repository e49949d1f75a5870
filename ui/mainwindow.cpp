#include "mainwindow.h"

#include <QAction>
#include <QActionGroup>
#include <QDateTime>
#include <QDialog>
#include <QVBoxLayout>
#include <QApplication>
#include <QCloseEvent>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeySequence>
#include <QLabel>
#include <QListWidget>
#include <QLocale>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QStackedWidget>
#include <QStatusBar>
#include <QTimer>
#include <QUrl>

#include "appsettings.h"
#include "benchmarkpage.h"
#include "chatpage.h"
#include "jobindicator.h"
#include "chatsessionwidget.h"
#include "librarypage.h"
#include "modelcontroller.h"
#include "modelpage.h"
#include "quantizehomepage.h"
#include "quantizewizard.h"
#include "quantizeworker.h"
#include "resourcechart.h"
#include "resourcemonitor.h"
#include "theme.h"

namespace {

const QString kRecentKey = QStringLiteral("recentModels");
const QString kGeometryKey = QStringLiteral("mainWindow/geometry");
const QString kFactsKey = QStringLiteral("libraryFacts");        // folder -> one line of facts
const QString kResultsKey = QStringLiteral("quantizeResults");   // newest first
const QString kThemeKey = QStringLiteral("theme");

QString displayName()
{
    return QStringLiteral("AWQ Studio");
}

// The folder a dropped URL names: the folder itself, or the folder of a dropped file
// (e.g. its config.json).
QString droppedFolder(const QMimeData *mime)
{
    if (!mime || !mime->hasUrls() || mime->urls().isEmpty())
        return {};
    const QUrl url = mime->urls().constFirst();
    if (!url.isLocalFile())
        return {};
    const QFileInfo info(url.toLocalFile());
    if (info.isDir())
        return info.absoluteFilePath();
    return info.isFile() ? info.absolutePath() : QString();
}

// 1180x760, or on a smaller screen its free area less the window frame and title bar.
QSize defaultWindowSize(const QScreen *screen)
{
    const QSize preferred(1180, 760);
    return screen ? preferred.boundedTo(screen->availableGeometry().size() - QSize(16, 48)) : preferred;
}

} // namespace

MainWindow::MainWindow(QWidget *parent) : QMainWindow(parent)
{
    m_controller = new ModelController(this);
    connect(m_controller, &ModelController::inspectionStarted, this, &MainWindow::handleInspectionStarted);
    connect(m_controller, &ModelController::modelInspected, this, &MainWindow::handleModelInspected);
    connect(m_controller, &ModelController::inspectionFailed, this, &MainWindow::handleInspectionFailed);

    auto *central = new QWidget;
    auto *layout = new QHBoxLayout(central);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);

    m_navigation = new QListWidget;
    m_navigation->setObjectName(QStringLiteral("navigation"));
    m_navigation->setFixedWidth(170);
    m_navigation->setFrameShape(QFrame::NoFrame);
    applyNavigationStyle();
    m_pages = new QStackedWidget;
    auto *separator = new QFrame;
    separator->setFrameShape(QFrame::VLine);
    separator->setFrameShadow(QFrame::Sunken);
    layout->addWidget(m_navigation);
    layout->addWidget(separator);
    layout->addWidget(m_pages, 1);
    setCentralWidget(central);
    connect(m_navigation, &QListWidget::currentRowChanged, m_pages, &QStackedWidget::setCurrentIndex);

    m_library = new LibraryPage;
    m_modelPage = m_library->modelPage();
    addPage(tr("Library"), m_library, tr("Recent model folders and the facts of the open one (Ctrl+1)"));
    m_quantizeHome = new QuantizeHomePage;
    addPage(tr("Quantize"), m_quantizeHome, tr("Quantize a model with AWQ (Ctrl+2)"));
    m_chatPage = new ChatPage;
    addPage(tr("Chat"), m_chatPage, tr("Chat with a model, or compare two side by side (Ctrl+3)"));
    m_benchmarkPage = new BenchmarkPage;
    addPage(tr("Benchmark"), m_benchmarkPage, tr("GEMM vs GEMV vs full precision: speed and memory (Ctrl+4)"));
    m_navigation->setCurrentRow(0);

    connect(m_navigation, &QListWidget::currentRowChanged, this, &MainWindow::loadChatModelIfNeeded);
    connect(m_navigation, &QListWidget::currentRowChanged, this, &MainWindow::showModelInUse);
    for (ChatSessionWidget *session : {m_chatPage->primarySession(), m_chatPage->compareSession()}) {
        connect(session, &ChatSessionWidget::modelLoaded, this, &MainWindow::showModelInUse);
        connect(session, &ChatSessionWidget::busyChanged, this, &MainWindow::showModelInUse);
    }
    connect(m_library, &LibraryPage::openRequested, this, &MainWindow::openModel);
    connect(m_library, &LibraryPage::browseRequested, this, &MainWindow::showOpenModelDialog);
    connect(m_library, &LibraryPage::removeRequested, this, &MainWindow::removeRecentModel);
    connect(m_library, &LibraryPage::quantizeRequested, this, &MainWindow::startQuantizeWizard);
    connect(m_library, &LibraryPage::chatRequested, this, &MainWindow::openInChat);
    connect(m_library, &LibraryPage::benchmarkRequested, this, &MainWindow::openInBenchmark);
    connect(m_quantizeHome, &QuantizeHomePage::wizardRequested, this, [this] { startQuantizeWizard(); });
    connect(m_quantizeHome, &QuantizeHomePage::openRequested, this, &MainWindow::openModel);
    connect(m_quantizeHome, &QuantizeHomePage::chatRequested, this, &MainWindow::openInChat);
    connect(m_quantizeHome, &QuantizeHomePage::benchmarkRequested, this, &MainWindow::openInBenchmark);

    createMenus();
    m_statusModel = new QLabel;
    m_statusModel->setObjectName(QStringLiteral("statusModelLabel"));
    statusBar()->addPermanentWidget(m_statusModel);
    m_jobs = new JobIndicator(this);
    statusBar()->addPermanentWidget(m_jobs);
    watchJobs();
    m_monitor = new ResourceMonitor(this);
    m_monitor->setCursor(Qt::PointingHandCursor);
    connect(m_monitor, &ResourceMonitor::clicked, this, &MainWindow::showMemoryChart);
    statusBar()->addPermanentWidget(m_monitor);
    statusBar()->showMessage(tr("Open a model folder to begin (Ctrl+O)."));

    setAcceptDrops(true);
    updateTitle(QString());
    resize(defaultWindowSize(screen()));
    const QSettings settings(AppSettings::organization(), AppSettings::application());
    restoreGeometry(settings.value(kGeometryKey).toByteArray());
    m_quantizeHome->setResults(settings.value(kResultsKey).toList());
    refreshLibrary();
}

MainWindow::~MainWindow()
{
    // Stop the worker thread before the widgets its results would go to are gone.
    delete m_controller;
    m_controller = nullptr;
}

void MainWindow::applyNavigationStyle()
{
    // A style sheet takes palette(base) when it is set: set again, it takes the new theme's.
    m_navigation->setStyleSheet(QString());
    m_navigation->setStyleSheet(
        QStringLiteral("QListWidget { padding: 8px; border: none; background: palette(base); }"));
}

void MainWindow::changeEvent(QEvent *event)
{
    QMainWindow::changeEvent(event);
    if ((event->type() == QEvent::PaletteChange || event->type() == QEvent::ApplicationPaletteChange
         || event->type() == QEvent::StyleChange)
        && m_navigation
        && !m_restylingNavigation) {
        // Once every widget has the new palette (the change reaches them one by one).
        m_restylingNavigation = true;
        QTimer::singleShot(0, this, [this] {
            applyNavigationStyle();
            m_restylingNavigation = false;
        });
    }
}

void MainWindow::addPage(const QString &title, QWidget *page, const QString &toolTip)
{
    auto *item = new QListWidgetItem(title, m_navigation);
    item->setToolTip(toolTip);
    item->setSizeHint(QSize(0, 34));
    QFont font = item->font();
    font.setPointSizeF(font.pointSizeF() * 1.1);
    item->setFont(font);
    m_pages->addWidget(page);
}

void MainWindow::createMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    QAction *open = file->addAction(tr("&Open Model Folder…"), this, &MainWindow::showOpenModelDialog);
    open->setShortcut(QKeySequence::Open);
    open->setStatusTip(tr("Inspect a Hugging Face style model folder"));
    m_recentMenu = file->addMenu(tr("Open &Recent"));
    m_recentMenu->setObjectName(QStringLiteral("recentMenu"));
    rebuildRecentMenu();
    QAction *quantize = file->addAction(tr("&Quantize…"), this, [this] { startQuantizeWizard(); });
    quantize->setObjectName(QStringLiteral("quantizeAction"));
    quantize->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Q));
    file->addSeparator();
    QAction *quit = file->addAction(tr("&Quit"), this, &QWidget::close);
    quit->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Q));
    quit->setMenuRole(QAction::QuitRole);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    const QStringList pageNames = {tr("&Library"), tr("&Quantize"), tr("&Chat"), tr("&Benchmark")};
    for (int i = 0; i < pageNames.size(); ++i) {
        QAction *go = view->addAction(pageNames.at(i), this, [this, i] { m_navigation->setCurrentRow(i); });
        go->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
    }
    view->addSeparator();
    QAction *memory = view->addAction(tr("&Memory Chart"), this, &MainWindow::showMemoryChart);
    memory->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_M));
    QMenu *theme = view->addMenu(tr("&Theme"));
    theme->setObjectName(QStringLiteral("themeMenu"));
    auto *themes = new QActionGroup(this);
    const QString current = QSettings(AppSettings::organization(), AppSettings::application()).value(kThemeKey).toString();
    for (const Theme::Kind kind : {Theme::Kind::System, Theme::Kind::Light, Theme::Kind::Dark}) {
        const QString text = kind == Theme::Kind::System ? tr("&System") : kind == Theme::Kind::Light ? tr("&Light") : tr("&Dark");
        QAction *action = theme->addAction(text, this, [kind] {
            Theme::apply(kind);
            QSettings(AppSettings::organization(), AppSettings::application()).setValue(kThemeKey, Theme::name(kind));
        });
        action->setCheckable(true);
        action->setChecked(Theme::fromName(current) == kind);
        action->setData(Theme::name(kind));
        themes->addAction(action);
    }

    QMenu *help = menuBar()->addMenu(tr("&Help"));
    QAction *about = help->addAction(tr("&About AWQ Studio"), this, &MainWindow::showAbout);
    about->setMenuRole(QAction::AboutRole);
}

void MainWindow::openModel(const QString &folder)
{
    if (folder.trimmed().isEmpty())
        return;
    showPage(Page::Library);
    m_controller->openModel(folder);
}

MainWindow::Page MainWindow::currentPage() const
{
    return static_cast<Page>(std::max(0, m_navigation->currentRow()));
}

void MainWindow::showPage(Page page)
{
    m_navigation->setCurrentRow(static_cast<int>(page));
}

void MainWindow::loadChatModelIfNeeded()
{
    // On the Chat page with a runnable model open and none loaded there: load it, since that
    // is what going to Chat means.
    ChatSessionWidget *session = m_chatPage->primarySession();
    const auto &info = m_controller->modelInfo();
    if (currentPage() == Page::Chat && info && info->loadable() && !session->hasModel() && !session->isBusy())
        m_chatPage->setModelFolder(m_controller->folder(), /*load=*/true);
}

void MainWindow::startQuantizeWizard(const QString &folder)
{
    const QString source = folder.isEmpty() ? m_controller->folder() : folder;
    auto *wizard = new QuantizeWizard(source, this);
    wizard->setAttribute(Qt::WA_DeleteOnClose);
    connect(wizard, &QuantizeWizard::quantized, this, [this, wizard](const QuantizeSummary &summary) {
        recordQuantizeResult(summary, wizard->modelFolder());
    });
    connect(wizard, &QuantizeWizard::chatRequested, this, &MainWindow::openInChat);
    connect(wizard, &QuantizeWizard::benchmarkRequested, this, &MainWindow::openInBenchmark);
    watchWizard(wizard);
    showPage(Page::Quantize);
    wizard->show();
}

void MainWindow::openInChat(const QString &folder)
{
    if (folder.isEmpty())
        return;
    // Asked for first, so that arriving on the Chat page does not load the Library's model.
    m_chatPage->setModelFolder(folder, /*load=*/true);
    showPage(Page::Chat);
}

void MainWindow::openInBenchmark(const QString &folder)
{
    if (folder.isEmpty())
        return;
    showPage(Page::Benchmark);
    m_benchmarkPage->setModelFolder(folder);
}

void MainWindow::showMemoryChart()
{
    if (!m_memoryWindow) {
        m_memoryWindow = new QDialog(this);
        m_memoryWindow->setObjectName(QStringLiteral("memoryWindow"));
        m_memoryWindow->setWindowTitle(tr("Memory — AWQ Studio"));
        auto *chart = new ResourceChart;
        auto *layout = new QVBoxLayout(m_memoryWindow);
        layout->addWidget(chart);
        m_memoryWindow->resize(720, 420);
        chart->setHistory(m_monitor->history());
        connect(m_monitor, &ResourceMonitor::sampled, chart, &ResourceChart::addSample);
    }
    m_memoryWindow->show();
    m_memoryWindow->raise();
    m_memoryWindow->activateWindow();
}

void MainWindow::recordQuantizeResult(const QuantizeSummary &summary, const QString &source)
{
    QSettings settings(AppSettings::organization(), AppSettings::application());
    QVariantList results = settings.value(kResultsKey).toList();
    QVariantMap run;
    run.insert(QStringLiteral("output"), summary.outputFolder);
    run.insert(QStringLiteral("source"), source);
    run.insert(QStringLiteral("date"), QDateTime::currentDateTime().toString(QStringLiteral("yyyy-MM-dd hh:mm")));
    run.insert(QStringLiteral("summary"),
               tr("from %1 · %2 of weights · %3 s · peak memory %4")
                   .arg(QFileInfo(source).fileName(), QString::fromStdString(awq::formatBytes(summary.outputBytes)))
                   .arg(summary.seconds, 0, 'f', 1)
                   .arg(QString::fromStdString(awq::formatBytes(summary.peakRssBytes))));
    for (int i = results.size() - 1; i >= 0; --i)
        if (results.at(i).toMap().value(QStringLiteral("output")).toString() == summary.outputFolder)
            results.removeAt(i);
    results.prepend(run);
    while (results.size() > MaxQuantizeResults)
        results.removeLast();
    settings.setValue(kResultsKey, results);
    m_quantizeHome->setResults(results);

    // The new model is in the Library at once, with what is known of it without reading it.
    QVariantMap facts = settings.value(kFactsKey).toMap();
    facts.insert(summary.outputFolder, tr("quantized from %1 · %2 of weights · %3")
                                           .arg(QFileInfo(source).fileName(),
                                                QString::fromStdString(awq::formatBytes(summary.outputBytes)),
                                                run.value(QStringLiteral("date")).toString()));
    settings.setValue(kFactsKey, facts);
    addRecentModel(summary.outputFolder);
}

void MainWindow::showOpenModelDialog()
{
    QString start = QDir::homePath();
    if (!m_controller->folder().isEmpty())
        start = QFileInfo(m_controller->folder()).absolutePath();
    else if (!recentModels().isEmpty())
        start = QFileInfo(recentModels().constFirst()).absolutePath();
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Open Model Folder"), start);
    if (!folder.isEmpty())
        openModel(folder);
}

void MainWindow::showAbout()
{
    QMessageBox::about(
        this, tr("About AWQ Studio"),
        tr("<h3>AWQ Studio %1</h3>"
           "<p>Point-and-click 4-bit AWQ (Activation-aware Weight Quantization) of Llama-family "
           "language models, with a fused int4 inference engine. Checkpoints use the AutoAWQ / "
           "transformers / vLLM <code>quant_method: \"awq\"</code> format.</p>"
           "<p>Built with Qt %2, running on Qt %3.</p>")
            .arg(QApplication::applicationVersion().toHtmlEscaped(), QStringLiteral(QT_VERSION_STR),
                 QString::fromLatin1(qVersion())));
}

void MainWindow::handleInspectionStarted(const QString &folder)
{
    m_modelPage->showLoading(folder);
    m_libraryStatus.clear();
    updateTitle(folder);
    statusBar()->showMessage(tr("Inspecting %1…").arg(QDir::toNativeSeparators(folder)));
}

void MainWindow::handleModelInspected(const awq::ModelInfo &info, qint64 elapsedMs)
{
    const QString folder = QString::fromStdString(info.folder.string());
    m_modelPage->showModel(info);
    const QString facts = tr("%1 · %2 parameters · %3 · %4 on disk")
                              .arg(QString::fromStdString(info.config.modelType),
                                   QString::fromStdString(awq::formatCount(info.parameterCount)),
                                   QString::fromStdString(info.precisionSummary()),
                                   QString::fromStdString(awq::formatBytes(info.sizeOnDisk)));
    {
        QSettings settings(AppSettings::organization(), AppSettings::application());
        QVariantMap all = settings.value(kFactsKey).toMap();
        all.insert(folder, info.loadable() ? facts : tr("%1 · cannot be run: %2").arg(facts, QString::fromStdString(info.problems.front())));
        settings.setValue(kFactsKey, all);
    }
    addRecentModel(folder);
    m_library->setCurrent(folder, info.loadable());
    m_quantizeHome->setCurrentModel(info.loadable() ? folder : QString(), facts);
    if (info.loadable()) {
        m_chatPage->setModelFolder(folder);
        m_benchmarkPage->setModelFolder(folder);
        loadChatModelIfNeeded();
    }
    const QString name = QFileInfo(folder).fileName();
    m_libraryStatus = tr("%1 · %2 parameters · %3")
                          .arg(name, QString::fromStdString(awq::formatCount(info.parameterCount)),
                               QString::fromStdString(info.precisionSummary()));
    showModelInUse();
    if (info.loadable())
        statusBar()->showMessage(tr("Inspected %1 in %2 ms: ready.").arg(name).arg(elapsedMs));
    else
        statusBar()->showMessage(info.problems.size() == 1
                                     ? tr("Inspected %1: 1 problem found.").arg(name)
                                     : tr("Inspected %1: %2 problems found.").arg(name).arg(info.problems.size()));
}

void MainWindow::handleInspectionFailed(const QString &folder, const QString &message)
{
    m_modelPage->showError(folder, message);
    m_library->setCurrent(folder, false);
    m_quantizeHome->setCurrentModel(QString(), QString());
    m_libraryStatus.clear();
    showModelInUse();
    statusBar()->showMessage(tr("Could not open %1.").arg(QDir::toNativeSeparators(folder)));
}

QStringList MainWindow::recentModels() const
{
    const QSettings settings(AppSettings::organization(), AppSettings::application());
    return settings.value(kRecentKey).toStringList();
}

void MainWindow::addRecentModel(const QString &folder)
{
    QStringList recent = recentModels();
    recent.removeAll(folder);
    recent.prepend(folder);
    while (recent.size() > MaxRecentModels)
        recent.removeLast();
    QSettings settings(AppSettings::organization(), AppSettings::application());
    settings.setValue(kRecentKey, recent);
    rebuildRecentMenu();
    refreshLibrary();
}

void MainWindow::removeRecentModel(const QString &folder)
{
    QStringList recent = recentModels();
    recent.removeAll(folder);
    QSettings settings(AppSettings::organization(), AppSettings::application());
    settings.setValue(kRecentKey, recent);
    QVariantMap facts = settings.value(kFactsKey).toMap();
    facts.remove(folder);
    settings.setValue(kFactsKey, facts);
    rebuildRecentMenu();
    refreshLibrary();
}

void MainWindow::refreshLibrary()
{
    const QSettings settings(AppSettings::organization(), AppSettings::application());
    m_library->setModels(recentModels(), settings.value(kFactsKey).toMap());
}

void MainWindow::rebuildRecentMenu()
{
    m_recentMenu->clear();
    const QStringList recent = recentModels();
    for (int i = 0; i < recent.size(); ++i) {
        const QString folder = recent.at(i);
        const QString text = QStringLiteral("&%1  %2   (%3)")
                                 .arg(i + 1)
                                 .arg(QFileInfo(folder).fileName(), QDir::toNativeSeparators(folder));
        QAction *action = m_recentMenu->addAction(text, this, [this, folder] { openModel(folder); });
        action->setData(folder);
        action->setStatusTip(folder);
    }
    if (!recent.isEmpty()) {
        m_recentMenu->addSeparator();
        m_recentMenu->addAction(tr("&Clear Recent Models"), this, [this] {
            QSettings settings(AppSettings::organization(), AppSettings::application());
            settings.remove(kRecentKey);
            settings.remove(kFactsKey);
            rebuildRecentMenu();
            refreshLibrary();
        });
    }
    m_recentMenu->setEnabled(!recent.isEmpty());
}

void MainWindow::updateTitle(const QString &folder)
{
    m_libraryFolder = folder;
    showModelInUse();
}

void MainWindow::showModelInUse()
{
    if (!m_statusModel)
        return; // during construction
    // On the Chat page the title and the status bar name the model being chatted with
    // (both in compare mode); elsewhere the Library's open model.
    QString title = m_libraryFolder.isEmpty() ? QString() : QFileInfo(m_libraryFolder).fileName();
    QString status = m_libraryStatus;
    if (currentPage() == Page::Chat) {
        QStringList names, facts;
        for (ChatSessionWidget *session : {m_chatPage->primarySession(), m_chatPage->compareSession()}) {
            if (!session->hasModel() || (session == m_chatPage->compareSession() && !m_chatPage->compareMode()))
                continue;
            const ChatModelSummary &model = session->controller()->model();
            names << QFileInfo(model.folder).fileName();
            facts << tr("%1 · %2 · %3")
                         .arg(QFileInfo(model.folder).fileName(), model.precision,
                              model.device == QLatin1String("cpu") ? tr("CPU") : model.device);
        }
        title = names.isEmpty() ? tr("Chat") : tr("%1 — Chat").arg(names.join(QStringLiteral(" vs ")));
        status = facts.isEmpty() ? tr("Chat: no model loaded") : tr("Chat: %1").arg(facts.join(QStringLiteral("  |  ")));
    }
    setWindowTitle(title.isEmpty() ? displayName() : tr("%1 — %2").arg(title, displayName()));
    // Elided, whole in the tooltip: with a job's line and the memory readout beside it, the
    // status bar still fits a 1024-pixel window (JobIndicator::kMaxTextWidth).
    constexpr int kMaxStatusModelWidth = 260;
    m_statusModel->setText(m_statusModel->fontMetrics().elidedText(status, Qt::ElideRight, kMaxStatusModelWidth));
    m_statusModel->setToolTip(status);
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    const QStringList jobs = runningJobs();
    if (!jobs.isEmpty()) {
        // Asked once; while the jobs stop, a second Ctrl+Q waits with them.
        event->ignore();
        if (!(m_quitTimer && m_quitTimer->isActive()) && confirmStopJobs(jobs))
            stopJobsThenClose();
        return;
    }
    QSettings settings(AppSettings::organization(), AppSettings::application());
    settings.setValue(kGeometryKey, saveGeometry());
    QMainWindow::closeEvent(event);
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (!droppedFolder(event->mimeData()).isEmpty())
        event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent *event)
{
    const QString folder = droppedFolder(event->mimeData());
    if (folder.isEmpty())
        return;
    event->acceptProposedAction();
    openModel(folder);
}
