#pragma once
// ChatWorker holds one awq::chat::ChatModel on the thread it lives on: it loads a model
// folder and answers conversations, streaming the reply text through signals; it never
// touches widgets. ChatController is the GUI-thread side: it owns the worker's QThread,
// queues requests to it and stops a load or a reply through a thread-safe
// awq::CancelToken (checked between tensors while loading, between tokens while
// generating). One chat session owns one controller.

#include <memory>
#include <vector>

#include <QObject>
#include <QString>
#include <QThread>

#include "awq/chat/conversation.h"
#include "awq/core/cancel.h"

namespace awq::chat {
class ChatModel;
}

// What a loaded model is, as plain Qt types.
struct ChatModelSummary {
    QString folder;
    QString description;
    QString precision;
    QString device; // "cpu", "cuda:0", ...
    qint64 contextLength = 0; // max_position_embeddings
    quint64 kvCacheBytesPerToken = 0;
    bool hasTemplate = false;
    QString notice;
    double loadSeconds = 0;
    quint64 weightBytes = 0;
};
Q_DECLARE_METATYPE(ChatModelSummary)

// The end of one reply.
struct ChatReplyOutcome {
    QString text;
    awq::chat::ReplyStats stats;
    qint64 droppedMessages = 0;
    QString notice; // how the conversation was adapted to the model's template, if it was
    bool stopped = false; // ended by Stop (the text so far is kept)
};
Q_DECLARE_METATYPE(ChatReplyOutcome)

class ChatWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatWorker)

public:
    explicit ChatWorker(QObject *parent = nullptr);
    ~ChatWorker() override;

    // Both run on the worker's thread and never throw. load() emits loadProgress() and then
    // exactly one of loaded() / loadFailed() / loadCancelled(); reply() emits replyText()
    // pieces and then exactly one of replyFinished() / replyFailed().
    void load(const QString &folder, const QString &device, const awq::CancelToken &cancel);
    void reply(quint64 replyId, const std::vector<awq::chat::ChatMessage> &messages,
               const awq::chat::ChatSettings &settings, const awq::CancelToken &cancel);
    // Emits tokensCounted() with the tokens `messages` take as a prompt (-1 when they
    // cannot be counted: no model, or the template rejects them). Never throws.
    void countTokens(quint64 countId, const std::vector<awq::chat::ChatMessage> &messages);
    void unload();

Q_SIGNALS:
    void loadProgress(qint64 done, qint64 total, const QString &note);
    void loaded(const ChatModelSummary &summary);
    void loadFailed(const QString &folder, const QString &message);
    void loadCancelled();
    void replyText(quint64 replyId, const QString &text);
    void replyFinished(quint64 replyId, const ChatReplyOutcome &outcome);
    void replyFailed(quint64 replyId, const QString &message);
    void tokensCounted(quint64 countId, qint64 tokens);

private:
    std::unique_ptr<awq::chat::ChatModel> m_model;
};

class ChatController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatController)

public:
    explicit ChatController(QObject *parent = nullptr);
    // Stops a load or reply in flight and waits for the worker to return.
    ~ChatController() override;

    bool isLoading() const { return m_loading; }
    bool isGenerating() const { return m_generating; }
    bool hasModel() const { return m_hasModel; }
    const ChatModelSummary &model() const { return m_model; }

    // Loads `folder` on `device` (an awq::availableDevices() id; the previous model is
    // released first). Ignored while busy.
    void load(const QString &folder, const QString &device = QStringLiteral("cpu"));
    // Starts a reply to `messages`; returns its id, 0 when no model is loaded or busy.
    quint64 send(const std::vector<awq::chat::ChatMessage> &messages, const awq::chat::ChatSettings &settings);
    // Stops the load or the reply in flight; the reply ends with what it has so far.
    void stop();
    // Counts the tokens `messages` take as a prompt for the loaded model (its template and
    // tokenizer, on the worker: milliseconds); tokensCounted() follows unless a load or a
    // reply starts first. False (nothing counted) with no model or while busy.
    bool countTokens(const std::vector<awq::chat::ChatMessage> &messages);

Q_SIGNALS:
    void loadStarted(const QString &folder);
    void loadProgress(qint64 done, qint64 total, const QString &note);
    void loaded(const ChatModelSummary &summary);
    void loadFailed(const QString &folder, const QString &message);
    void loadCancelled();
    void replyText(const QString &text);
    void replyFinished(const ChatReplyOutcome &outcome);
    void replyFailed(const QString &message);
    void busyChanged(bool busy);
    void tokensCounted(qint64 tokens);

private:
    void setState(bool loading, bool generating);

    QThread m_thread;
    ChatWorker *m_worker = nullptr; // lives on m_thread, deleted when it finishes
    awq::CancelToken m_cancel;
    ChatModelSummary m_model;
    quint64 m_replyId = 0;
    quint64 m_countId = 0; // the count whose result is still wanted
    bool m_loading = false;
    bool m_generating = false;
    bool m_hasModel = false;
};
