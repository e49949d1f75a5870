#pragma once
// ChatPage: the Chat page of the main window. One chat session (or two side by side in
// compare mode, answering the same messages one after the other so that their speeds
// are measured alone), the message box with Send / Stop / Regenerate / Edit last, and a
// side panel with the system prompt and the sampling settings (persisted in QSettings).
// Conversations are autosaved into the conversation list on the left (ConversationList),
// saved and opened as JSON (awq/chat/conversation.h) and exported as Markdown; in compare
// mode all of these hold both sides. Editing an earlier message branches: the original stays
// in the list, the branch is a new conversation. The document side lives in chatpageconversations.cpp.
// GUI thread only.

#include <QString>
#include <QWidget>

#include <optional>

#include "awq/chat/conversation.h"
#include "awq/chat/generation_defaults.h"
#include "chatworker.h" // ChatModelSummary

class ChatSessionWidget;
class ConversationList;
class QCheckBox;
class QDoubleSpinBox;
class QLabel;
class QPlainTextEdit;
class QPushButton;
class QSpinBox;
class QSplitter;
class ServerPanel;

class ChatPage final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatPage)

public:
    static constexpr qint64 kDefaultMaxNewTokens = 1024;

    explicit ChatPage(QWidget *parent = nullptr);
    ~ChatPage() override;

    ChatSessionWidget *primarySession() const { return m_sessions[0]; }
    ChatSessionWidget *compareSession() const { return m_sessions[1]; }
    ServerPanel *serverPanel() const { return m_serverPanel; }
    bool compareMode() const;

    // Prefills the left session's folder; loads it when `load` is set.
    void setModelFolder(const QString &folder, bool load = false);
    awq::chat::ChatSettings settings() const;
    void setSettings(const awq::chat::ChatSettings &settings);
    QString systemPrompt() const;

    // The left session's conversation as a document (title, model, settings, turns).
    awq::chat::Conversation conversation() const;
    // Save / open / export without a dialog; false with a message box on failure. The
    // message names the file and the problem.
    bool saveConversationTo(const QString &file);
    bool openConversationFrom(const QString &file);
    bool exportMarkdownTo(const QString &file);
    // The last error reported by the three functions above.
    QString lastError() const { return m_lastError; }
    // Errors also pop up in a message box (default true); tests turn it off.
    void setErrorDialogs(bool on) { m_errorDialogs = on; }

    ConversationList *conversationList() const { return m_conversations; }
    // The id the conversation shown is autosaved under.
    QString currentConversationId() const { return m_currentId; }
    // Shows the conversation saved last (at start-up), without loading its model.
    void restoreLastConversation();

public Q_SLOTS:
    void send();
    void stop();
    void regenerate();
    void editLast();
    // Edits an earlier message of the user (turn index on the left side): the conversation
    // as it is stays in the list, and a new one (a branch) starts from the turns before that
    // message, with its text in the message box; sending it answers there. The branch is
    // titled after the edited message as sent, "<message> (edited)" (until then, after the
    // conversation it came from). In compare mode both sides are cut at the same message.
    void editMessage(int turn);
    void newChat();

protected:
    void resizeEvent(QResizeEvent *event) override;

private:
    void setCompareMode(bool on);
    // The two sessions side by side when the chat column is wide enough, else stacked.
    void arrangeSessions();
    void applyConversation(const awq::chat::Conversation &conversation, bool loadModels);
    // The edited message of a branch was sent: the branch takes its title from it.
    void nameBranchAfter(const QString &message);
    // A model loaded on the left: max new tokens within its context, its recommended sampling.
    void adaptToModel(const ChatModelSummary &model);
    // Max new tokens within `context` (at most half of it); a note when it had to change.
    QString fitMaxTokensToContext(qint64 context);
    void applyModelDefaults();
    void openSaved(const QString &id);
    // Saves the conversation shown into the list (nothing while it is empty).
    void autosave();
    void continueCompare();
    void updateButtons();
    void saveSettings() const;
    void restoreSettings();
    void reportError(const QString &title, const QString &message);

    ChatSessionWidget *m_sessions[2] = {nullptr, nullptr};
    ServerPanel *m_serverPanel = nullptr;
    QSplitter *m_sessionSplitter = nullptr;
    QWidget *m_chatColumn = nullptr;
    QCheckBox *m_compareCheck = nullptr;
    QPlainTextEdit *m_input = nullptr;
    QPushButton *m_sendButton = nullptr;
    QPushButton *m_stopButton = nullptr;
    QPushButton *m_regenerateButton = nullptr;
    QPushButton *m_editButton = nullptr;
    QPushButton *m_newButton = nullptr;
    QPlainTextEdit *m_systemEdit = nullptr;
    QDoubleSpinBox *m_temperatureSpin = nullptr;
    QDoubleSpinBox *m_topPSpin = nullptr;
    QSpinBox *m_topKSpin = nullptr;
    QDoubleSpinBox *m_repetitionSpin = nullptr;
    QSpinBox *m_maxTokensSpin = nullptr;
    QSpinBox *m_seedSpin = nullptr;
    QCheckBox *m_randomSeedCheck = nullptr;
    QDoubleSpinBox *m_minPSpin = nullptr;
    QPushButton *m_modelDefaultsButton = nullptr;
    std::optional<awq::chat::GenerationDefaults> m_modelDefaults; // of the model loaded on the left
    awq::chat::ChatSettings m_hiddenSettings; // penalties and stop strings from an opened conversation
    QLabel *m_statusLabel = nullptr;
    // Compare mode: what the right session still has to do once the left one is done.
    enum class Pending { None, Ask, Regenerate } m_pending = Pending::None;
    QString m_pendingText;
    QString m_lastError;
    QString m_createdAt;
    ConversationList *m_conversations = nullptr;
    QString m_currentId;         // what the conversation shown is autosaved under
    QString m_title;             // a title given by renaming or branching (else the first message)
    bool m_branchUnnamed = false; // a branch whose edited message is not sent yet
    QString m_savedFolders[2];   // the models a reopened conversation was held with
    bool m_errorDialogs = true;
};
