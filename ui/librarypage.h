#pragma once
// LibraryPage: the model library — the recently used model folders, each with the facts
// recorded when it was last inspected (architecture, parameters, precision, size), next to
// the ModelPage of the folder open now and the actions for it (quantize, chat, benchmark).
// The list itself is kept by MainWindow in QSettings; this page only shows it and asks
// for folders to be opened. GUI thread only.

#include <QString>
#include <QStringList>
#include <QVariantMap>
#include <QWidget>

class ModelPage;
class QListWidget;
class QPushButton;

class LibraryPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LibraryPage)

public:
    explicit LibraryPage(QWidget *parent = nullptr);

    ModelPage *modelPage() const { return m_modelPage; }
    QListWidget *list() const { return m_list; }

    // Shows `folders` (most recent first) with the facts line kept for each (by folder).
    void setModels(const QStringList &folders, const QVariantMap &facts);
    // Marks the folder open now and enables the actions when it can be run.
    void setCurrent(const QString &folder, bool runnable);

Q_SIGNALS:
    void openRequested(const QString &folder);
    void browseRequested();
    void removeRequested(const QString &folder);
    void quantizeRequested(const QString &folder);
    void chatRequested(const QString &folder);
    void benchmarkRequested(const QString &folder);

private:
    QString selectedFolder() const;

    QListWidget *m_list = nullptr;
    QPushButton *m_removeButton = nullptr;
    QPushButton *m_quantizeButton = nullptr;
    QPushButton *m_chatButton = nullptr;
    QPushButton *m_benchmarkButton = nullptr;
    ModelPage *m_modelPage = nullptr;
    QString m_current;
};
