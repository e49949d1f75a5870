#pragma once
// ModelPage: the "Model" page of the main window. Shows one of: a prompt to open a
// model folder, a busy indicator while a folder is inspected, the model's facts, or
// the reason the folder could not be opened. Display only; GUI thread.

#include <QString>
#include <QWidget>

#include "metatypes.h"

class ModelFactsWidget;
class QLabel;
class QStackedWidget;

class ModelPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ModelPage)

public:
    enum class State { Empty, Loading, Loaded, Failed };

    explicit ModelPage(QWidget *parent = nullptr);

    void showEmpty();
    void showLoading(const QString &folder);
    void showModel(const awq::ModelInfo &info);
    void showError(const QString &folder, const QString &message);

    State state() const { return m_state; }
    // What the page shows now as plain text (the facts, or the error): for tests.
    QString text() const;
    ModelFactsWidget *factsWidget() const { return m_facts; }

Q_SIGNALS:
    void openRequested();

private:
    QWidget *makeCentered(QWidget *content);

    State m_state = State::Empty;
    QStackedWidget *m_stack = nullptr;
    QWidget *m_emptyPage = nullptr;
    QWidget *m_loadingPage = nullptr;
    QWidget *m_factsPage = nullptr;
    QWidget *m_errorPage = nullptr;
    QLabel *m_loadingLabel = nullptr;
    QLabel *m_errorTitle = nullptr;
    QLabel *m_errorMessage = nullptr;
    ModelFactsWidget *m_facts = nullptr;
};
