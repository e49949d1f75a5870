#pragma once
// QuantizeHomePage: the Quantize page of the main window. Says what a run does, starts the
// quantization wizard on the model open now, and lists the runs that finished (kept in
// QSettings by MainWindow) with buttons to chat with or benchmark their output.
// GUI thread only.

#include <QString>
#include <QVariantList>
#include <QWidget>

class QLabel;
class QListWidget;
class QPushButton;

class QuantizeHomePage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QuantizeHomePage)

public:
    explicit QuantizeHomePage(QWidget *parent = nullptr);

    // The model the wizard will start on (may be empty: the wizard asks for one).
    void setCurrentModel(const QString &folder, const QString &facts);
    // Finished runs, newest first: maps with "output", "source", "summary", "date".
    void setResults(const QVariantList &results);
    QListWidget *resultsList() const { return m_results; }

Q_SIGNALS:
    void wizardRequested();
    void openRequested(const QString &folder);
    void chatRequested(const QString &folder);
    void benchmarkRequested(const QString &folder);

private:
    QString selectedOutput() const;
    void updateButtons();

    QLabel *m_modelLabel = nullptr;
    QListWidget *m_results = nullptr;
    QPushButton *m_openButton = nullptr;
    QPushButton *m_chatButton = nullptr;
    QPushButton *m_benchmarkButton = nullptr;
};
