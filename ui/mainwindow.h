#pragma once
// MainWindow: the application window. A navigation list on the left selects a page
// in a QStackedWidget (only "Model" for now); the File menu opens model folders
// (with a persisted recent list), and model inspection runs on ModelController's
// worker thread. GUI thread only.

#include <QMainWindow>
#include <QString>
#include <QStringList>

#include "metatypes.h"

class ModelController;
class ModelPage;
class QLabel;
class QListWidget;
class QMenu;
class QStackedWidget;

class MainWindow final : public QMainWindow
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    static constexpr int MaxRecentModels = 8;

    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Starts inspecting `folder` in the background; the Model page shows progress,
    // then the facts or the error.
    void openModel(const QString &folder);

    ModelController *modelController() const { return m_controller; }
    ModelPage *modelPage() const { return m_modelPage; }
    // Most recent first, as persisted in QSettings.
    QStringList recentModels() const;

public Q_SLOTS:
    void showOpenModelDialog();
    void showAbout();

protected:
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void createMenus();
    void addPage(const QString &title, QWidget *page);
    void handleInspectionStarted(const QString &folder);
    void handleModelInspected(const awq::ModelInfo &info, qint64 elapsedMs);
    void handleInspectionFailed(const QString &folder, const QString &message);
    void addRecentModel(const QString &folder);
    void rebuildRecentMenu();
    void updateTitle(const QString &folder);

    ModelController *m_controller = nullptr;
    QListWidget *m_navigation = nullptr;
    QStackedWidget *m_pages = nullptr;
    ModelPage *m_modelPage = nullptr;
    QMenu *m_recentMenu = nullptr;
    QLabel *m_statusModel = nullptr; // permanent status-bar label: the loaded model
};
