#include "chatworker.h"

#include <exception>

#include <QElapsedTimer>
#include <QMetaObject>

#include "awq/chat/chat_model.h"
#include "awq/core/error.h"
#include "quantizepagehelpers.h"

using quantui::fromPath;
using quantui::toPath;

ChatWorker::ChatWorker(QObject *parent) : QObject(parent)
{
}

ChatWorker::~ChatWorker() = default;

void ChatWorker::load(const QString &folder, const QString &device, const awq::CancelToken &cancel)
{
    m_model.reset(); // release the previous weights before reading the next ones
    try {
        QElapsedTimer sinceReport;
        sinceReport.start();
        const awq::ProgressFn progress = [&](const awq::Progress &p) {
            // At most ~20 reports a second reach the GUI, and always the last one.
            if (p.done != p.total && sinceReport.elapsed() < 50)
                return;
            sinceReport.restart();
            Q_EMIT loadProgress(p.done, p.total, QString::fromStdString(p.note));
        };
        m_model = awq::chat::ChatModel::load(toPath(folder), progress, cancel, device.toStdString());
        const awq::chat::ChatModelInfo &info = m_model->info();
        ChatModelSummary summary;
        summary.folder = fromPath(info.folder);
        summary.description = QString::fromStdString(info.description);
        summary.precision = QString::fromStdString(info.precision);
        summary.device = QString::fromStdString(info.device);
        summary.contextLength = info.contextLength;
        summary.kvCacheBytesPerToken = info.kvCacheBytesPerToken;
        summary.hasTemplate = info.hasTemplate;
        summary.notice = QString::fromStdString(info.notice);
        summary.loadSeconds = info.loadSeconds;
        summary.weightBytes = info.weightBytes;
        Q_EMIT loaded(summary);
    } catch (const awq::Error &error) {
        m_model.reset();
        if (error.code() == awq::ErrorCode::Cancelled)
            Q_EMIT loadCancelled();
        else
            Q_EMIT loadFailed(folder, QString::fromStdString(error.what()));
    } catch (const std::exception &error) {
        m_model.reset();
        Q_EMIT loadFailed(folder, tr("Internal error: %1").arg(QString::fromStdString(error.what())));
    } catch (...) {
        m_model.reset();
        Q_EMIT loadFailed(folder, tr("Internal error while loading the model"));
    }
}

void ChatWorker::reply(quint64 replyId, const std::vector<awq::chat::ChatMessage> &messages,
                       const awq::chat::ChatSettings &settings, const awq::CancelToken &cancel)
{
    try {
        AWQ_CHECK(m_model != nullptr, InvalidArgument, "no model is loaded");
        const awq::TextSink sink = [&](const std::string &text, int32_t) {
            Q_EMIT replyText(replyId, QString::fromStdString(text));
            return true;
        };
        const awq::chat::Reply reply = m_model->reply(messages, settings, sink, cancel);
        ChatReplyOutcome outcome;
        outcome.text = QString::fromStdString(reply.text);
        outcome.stats = reply.stats;
        outcome.droppedMessages = reply.droppedMessages;
        outcome.notice = QString::fromStdString(reply.notice);
        outcome.stopped = cancel.isCancelled();
        Q_EMIT replyFinished(replyId, outcome);
    } catch (const std::exception &error) {
        Q_EMIT replyFailed(replyId, QString::fromStdString(error.what()));
    } catch (...) {
        Q_EMIT replyFailed(replyId, tr("Internal error while generating"));
    }
}

void ChatWorker::countTokens(quint64 countId, const std::vector<awq::chat::ChatMessage> &messages)
{
    qint64 tokens = -1;
    try {
        if (m_model)
            tokens = m_model->promptTokens(messages);
    } catch (const std::exception &) {
        tokens = -1; // a template that rejects the conversation: the reply will say so
    }
    Q_EMIT tokensCounted(countId, tokens);
}

void ChatWorker::unload()
{
    m_model.reset();
}

// ------------------------------------------------------------------------- ChatController

ChatController::ChatController(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<ChatModelSummary>();
    qRegisterMetaType<ChatReplyOutcome>();

    m_thread.setObjectName(QStringLiteral("awq-chat"));
    m_worker = new ChatWorker; // parentless: it moves to m_thread
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);

    connect(m_worker, &ChatWorker::loadProgress, this, &ChatController::loadProgress, Qt::QueuedConnection);
    connect(
        m_worker, &ChatWorker::loaded, this,
        [this](const ChatModelSummary &summary) {
            m_model = summary;
            m_hasModel = true;
            setState(false, false);
            Q_EMIT loaded(summary);
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &ChatWorker::loadFailed, this,
        [this](const QString &folder, const QString &message) {
            setState(false, false);
            Q_EMIT loadFailed(folder, message);
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &ChatWorker::loadCancelled, this,
        [this] {
            setState(false, false);
            Q_EMIT loadCancelled();
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &ChatWorker::replyText, this,
        [this](quint64 id, const QString &text) {
            if (id == m_replyId)
                Q_EMIT replyText(text);
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &ChatWorker::replyFinished, this,
        [this](quint64 id, const ChatReplyOutcome &outcome) {
            if (id != m_replyId)
                return;
            setState(false, false);
            Q_EMIT replyFinished(outcome);
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &ChatWorker::replyFailed, this,
        [this](quint64 id, const QString &message) {
            if (id != m_replyId)
                return;
            setState(false, false);
            Q_EMIT replyFailed(message);
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &ChatWorker::tokensCounted, this,
        [this](quint64 id, qint64 tokens) {
            if (id == m_countId && m_hasModel && tokens >= 0)
                Q_EMIT tokensCounted(tokens);
        },
        Qt::QueuedConnection);
    m_thread.start();
}

ChatController::~ChatController()
{
    m_cancel.cancel();
    m_thread.quit();
    m_thread.wait();
}

void ChatController::setState(bool loading, bool generating)
{
    const bool wasBusy = m_loading || m_generating;
    m_loading = loading;
    m_generating = generating;
    if (wasBusy != (loading || generating))
        Q_EMIT busyChanged(loading || generating);
}

void ChatController::load(const QString &folder, const QString &device)
{
    if (m_loading || m_generating)
        return;
    m_hasModel = false;
    m_model = ChatModelSummary();
    ++m_countId; // a count in flight was for the previous model
    m_cancel = awq::CancelToken();
    setState(true, false);
    Q_EMIT loadStarted(folder);
    ChatWorker *worker = m_worker;
    const awq::CancelToken token = m_cancel;
    QMetaObject::invokeMethod(
        worker, [worker, folder, device, token] { worker->load(folder, device, token); }, Qt::QueuedConnection);
}

quint64 ChatController::send(const std::vector<awq::chat::ChatMessage> &messages,
                             const awq::chat::ChatSettings &settings)
{
    if (!m_hasModel || m_loading || m_generating)
        return 0;
    const quint64 id = ++m_replyId;
    ++m_countId; // the reply's statistics count from here
    m_cancel = awq::CancelToken();
    setState(false, true);
    ChatWorker *worker = m_worker;
    const awq::CancelToken token = m_cancel;
    QMetaObject::invokeMethod(
        worker, [worker, id, messages, settings, token] { worker->reply(id, messages, settings, token); },
        Qt::QueuedConnection);
    return id;
}

void ChatController::stop()
{
    if (m_loading || m_generating)
        m_cancel.cancel();
}

bool ChatController::countTokens(const std::vector<awq::chat::ChatMessage> &messages)
{
    if (!m_hasModel || m_loading || m_generating)
        return false;
    const quint64 id = ++m_countId;
    ChatWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker, id, messages] { worker->countTokens(id, messages); }, Qt::QueuedConnection);
    return true;
}
