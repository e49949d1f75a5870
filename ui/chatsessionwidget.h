#pragma once
// ChatSessionWidget: one model and its conversation — the model bar (folder, Browse,
// Load, loading progress), the transcript, the context meter and the last reply's
// statistics. It owns a ChatController (the model lives on that worker thread) and the
// turns of the conversation; ChatPage gives it the user's messages, the system prompt and
// the sampling settings. Streamed text is shown in batches (every ~30 ms) so that a fast
// model cannot flood the GUI thread. GUI thread only.

#include <vector>

#include <QElapsedTimer>
#include <QString>
#include <QTimer>
#include <QWidget>

#include "awq/chat/conversation.h"
#include "chatworker.h"

class ChatTranscriptView;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;

class ChatSessionWidget final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatSessionWidget)

public:
    explicit ChatSessionWidget(const QString &title, QWidget *parent = nullptr);

    ChatController *controller() const { return m_controller; }
    ChatTranscriptView *transcript() const { return m_transcript; }
    bool hasModel() const;
    bool isBusy() const;
    QString modelFolder() const;
    const std::vector<awq::chat::ConversationTurn> &turns() const { return m_turns; }
    // The text of the reply being generated so far (empty when idle).
    QString pendingReply() const { return m_reply; }

    // The context (tokens) replies work in: chosen per model, up to its
    // max_position_embeddings, and remembered for that model folder in QSettings
    // (chat/contextLengths). 0 while no model is loaded.
    qint64 contextLength() const;
    void setContextLength(qint64 tokens);
    // A sensible context for a model with `maxPositions`: all of it up to 4096 tokens.
    static qint64 defaultContextLength(qint64 maxPositions);

    // Prefills the folder field (does not load).
    void setModelFolder(const QString &folder);
    // Loads `folder`; while another load or a reply runs, that is stopped and `folder`
    // loads once it has.
    void loadModel(const QString &folder);

    // Adds the user's message and starts the reply. False (and nothing added) when no
    // model is loaded or a reply is running.
    bool ask(const QString &userText, const QString &systemPrompt, const awq::chat::ChatSettings &settings);
    // Generates the last reply again (or answers the last message when it has none).
    bool regenerate(const QString &systemPrompt, const awq::chat::ChatSettings &settings);
    // Removes the last user message and the reply to it, and returns that message's text
    // (for editing and sending again); empty when there is none or a reply is running.
    QString takeLastUserMessage();
    void stop();
    void clearConversation();
    // Shows `turns` (a conversation opened, cut or restored); the context meter counts them
    // with the loaded model (now, or once a model loads).
    void setTurns(const std::vector<awq::chat::ConversationTurn> &turns);
    // The system prompt the conversation shown goes with (ask() and regenerate() take theirs):
    // the context meter counts it.
    void setSystemPrompt(const QString &systemPrompt) { m_systemPrompt = systemPrompt; }
    // Compact (two sessions stacked in a low window): the last reply's statistics line is
    // left out, since the transcript shows them under each reply.
    void setCompact(bool compact);

Q_SIGNALS:
    void busyChanged(bool busy);
    void modelLoaded(const ChatModelSummary &summary);
    void replyFinished(const ChatReplyOutcome &outcome);
    void replyFailed(const QString &message);
    void contextLengthChanged(qint64 tokens);

private:
    bool startReply(const QString &systemPrompt, const awq::chat::ChatSettings &settings);
    void browse();
    void loadQueuedModel();
    void showMemoryFit();
    // The statistics label and notice for the turns now shown.
    void showReplyFacts();
    void flushPending();
    void handleLoadStarted(const QString &folder);
    void handleLoadProgress(qint64 done, qint64 total, const QString &note);
    void handleLoaded(const ChatModelSummary &summary);
    void handleLoadFailed(const QString &folder, const QString &message);
    void handleReplyFinished(const ChatReplyOutcome &outcome);
    void handleReplyFailed(const QString &message);
    void updateContextMeter(qint64 usedTokens);
    // The meter for the turns shown: at once from the last reply's statistics, then as the
    // loaded model counts them (ChatController::countTokens).
    void measureContext();
    // The context row for the model loaded: its chosen length and the KV cache it costs.
    void showContextChoice();
    void showContextCost();
    // The user chose `tokens`: remembered for the model, the meter follows.
    void contextChosen(int tokens);
    void updateButtons();

    ChatController *m_controller = nullptr;
    QLineEdit *m_folderEdit = nullptr;
    QPushButton *m_browseButton = nullptr;
    QPushButton *m_loadButton = nullptr;
    QComboBox *m_deviceCombo = nullptr; // awq::availableDevices()
    QLabel *m_modelLabel = nullptr;
    QLabel *m_noticeLabel = nullptr;
    QLabel *m_fitLabel = nullptr; // memory fit of the folder typed, before it is loaded
    QProgressBar *m_loadProgress = nullptr;
    ChatTranscriptView *m_transcript = nullptr;
    QProgressBar *m_contextMeter = nullptr;
    QWidget *m_contextRow = nullptr;
    QSpinBox *m_contextSpin = nullptr;
    QLabel *m_contextCostLabel = nullptr;
    qint64 m_usedTokens = 0; // by the conversation shown, as the last reply counted them
    QLabel *m_statsLabel = nullptr;

    std::vector<awq::chat::ConversationTurn> m_turns;
    QString m_systemPrompt;
    QString m_reply;   // streamed so far
    QString m_pending; // streamed but not yet shown
    QTimer m_flushTimer;
    QString m_queuedFolder; // asked for while busy: loads when the session is idle
};
