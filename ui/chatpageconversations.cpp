// ChatPage's conversation as a document: building it from the sessions, applying one
// (opened from a file or picked in the conversation list), saving, exporting, and the
// autosave into the conversation list, and branching when an earlier message is edited.

#include <algorithm>

#include <QDateTime>
#include <QTextCursor>
#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QSaveFile>

#include "chatpage.h"
#include "chatsessionwidget.h"
#include "conversationlist.h"
#include "quantizepagehelpers.h"

namespace {

QString titleFor(const std::vector<awq::chat::ConversationTurn> &turns)
{
    for (const auto &turn : turns)
        if (turn.message.role == "user") {
            QString title = QString::fromStdString(turn.message.content).simplified();
            if (title.size() > 60)
                title = title.left(57) + QStringLiteral("…");
            return title;
        }
    return QObject::tr("Empty conversation");
}

// A branch's title: `title` marked as edited (once).
QString branchTitle(QString title)
{
    const QString suffix = QObject::tr(" (edited)");
    if (title.endsWith(suffix))
        title.chop(suffix.size());
    return title + suffix;
}

} // namespace

awq::chat::Conversation ChatPage::conversation() const
{
    awq::chat::Conversation c;
    c.turns = m_sessions[0]->turns();
    c.title = (m_title.isEmpty() ? titleFor(c.turns) : m_title).toStdString();
    // The model answering, or (a conversation reopened and not continued yet) the one it was held with.
    const QString left = m_sessions[0]->hasModel() ? m_sessions[0]->modelFolder() : m_savedFolders[0];
    c.modelFolder = left.toStdString();
    c.systemPrompt = systemPrompt().trimmed().toStdString();
    c.settings = settings();
    c.createdAt = m_createdAt.toStdString();
    if (compareMode()) {
        awq::chat::ConversationSide right;
        right.modelFolder =
            (m_sessions[1]->hasModel() ? m_sessions[1]->modelFolder() : m_savedFolders[1]).toStdString();
        right.turns = m_sessions[1]->turns();
        c.compare = std::move(right);
    }
    return c;
}

void ChatPage::reportError(const QString &title, const QString &message)
{
    m_lastError = message;
    m_statusLabel->setText(message);
    if (m_errorDialogs && isVisible())
        QMessageBox::warning(this, title, message);
}

bool ChatPage::saveConversationTo(const QString &file)
{
    try {
        awq::chat::saveConversation(conversation(), quantui::toPath(file));
        m_statusLabel->setText(tr("Saved %1.").arg(QDir::toNativeSeparators(file)));
        return true;
    } catch (const std::exception &e) {
        reportError(tr("Could not save the conversation"), QString::fromStdString(e.what()));
        return false;
    }
}

void ChatPage::applyConversation(const awq::chat::Conversation &c, bool loadModels)
{
    for (ChatSessionWidget *session : m_sessions)
        session->setSystemPrompt(QString::fromStdString(c.systemPrompt)); // the context meters count it
    m_sessions[0]->setTurns(c.turns);
    m_sessions[1]->clearConversation();
    setCompareMode(c.compare.has_value());
    m_savedFolders[0] = QString::fromStdString(c.modelFolder);
    m_savedFolders[1] = c.compare ? QString::fromStdString(c.compare->modelFolder) : QString();
    if (c.compare)
        m_sessions[1]->setTurns(c.compare->turns);
    m_systemEdit->setPlainText(QString::fromStdString(c.systemPrompt));
    setSettings(c.settings);
    m_createdAt = QString::fromStdString(c.createdAt);
    m_title = QString::fromStdString(c.title);
    m_branchUnnamed = false;
    for (int side = 0; side < 2; ++side) {
        const QString folder = m_savedFolders[side];
        if (m_sessions[side]->hasModel() || m_sessions[side]->isBusy() || folder.isEmpty())
            continue;
        if (loadModels && QFileInfo(folder).isDir())
            m_sessions[side]->loadModel(folder);
        else
            m_sessions[side]->setModelFolder(folder); // one click on Load away
    }
    m_statusLabel->clear();
    updateButtons();
}

bool ChatPage::openConversationFrom(const QString &file)
{
    if (m_sessions[0]->isBusy() || m_sessions[1]->isBusy()) {
        reportError(tr("Could not open the conversation"), tr("Stop the reply in progress first."));
        return false;
    }
    try {
        const awq::chat::Conversation c = awq::chat::loadConversation(quantui::toPath(file));
        applyConversation(c, /*loadModels=*/true);
        // It joins the conversation list as a new entry (the file itself is left as it is).
        m_currentId = m_conversations->newId();
        autosave();
        m_statusLabel->setText(tr("Opened %1 (%n message(s)).", nullptr, int(c.turns.size()))
                                   .arg(QDir::toNativeSeparators(file)));
        return true;
    } catch (const std::exception &e) {
        reportError(tr("Could not open the conversation"), quantui::userMessage(e));
        return false;
    }
}

void ChatPage::openSaved(const QString &id)
{
    if (id == m_currentId)
        return;
    if (m_sessions[0]->isBusy() || m_sessions[1]->isBusy() || m_pending != Pending::None) {
        m_statusLabel->setText(tr("Stop the reply in progress before switching conversations."));
        m_conversations->setCurrentId(m_currentId);
        return;
    }
    QString error;
    const std::optional<awq::chat::Conversation> c = m_conversations->load(id, &error);
    if (!c) {
        reportError(tr("Could not open the conversation"), error);
        m_conversations->setCurrentId(m_currentId);
        return;
    }
    autosave(); // what the page held (already saved after its last reply; edits since too)
    applyConversation(*c, /*loadModels=*/true);
    m_currentId = id;
    m_conversations->setCurrentId(id);
}

void ChatPage::restoreLastConversation()
{
    const QStringList ids = m_conversations->shownIds();
    if (ids.isEmpty() || !m_sessions[0]->turns().empty())
        return;
    QString error;
    if (const std::optional<awq::chat::Conversation> c = m_conversations->load(ids.constFirst(), &error)) {
        applyConversation(*c, /*loadModels=*/false); // the Library's model is loaded on arrival
        m_currentId = ids.constFirst();
        m_conversations->setCurrentId(m_currentId);
    }
}

void ChatPage::autosave()
{
    if (m_sessions[0]->turns().empty() && m_sessions[1]->turns().empty())
        return;
    const QString error = m_conversations->save(m_currentId, conversation());
    if (!error.isEmpty())
        m_statusLabel->setText(tr("Could not save the conversation automatically: %1").arg(error));
    else
        m_conversations->setCurrentId(m_currentId);
}

void ChatPage::editMessage(int turn)
{
    if (m_sessions[0]->isBusy() || m_sessions[1]->isBusy() || m_pending != Pending::None) {
        m_statusLabel->setText(tr("Stop the reply in progress before editing a message."));
        return;
    }
    const std::vector<awq::chat::ConversationTurn> left = m_sessions[0]->turns();
    if (turn < 0 || turn >= int(left.size()) || left[size_t(turn)].message.role != "user")
        return;
    // The conversation as it is stays in the list, untouched from here on.
    autosave();
    const QString title = QString::fromStdString(conversation().title);

    // The branch: what came before the message. The compare side is cut before the same
    // user message (the n-th), so both models see the same history.
    const auto userMessagesBefore = [](const std::vector<awq::chat::ConversationTurn> &turns, size_t end) {
        return size_t(std::count_if(turns.begin(), turns.begin() + std::ptrdiff_t(end),
                                    [](const awq::chat::ConversationTurn &t) { return t.message.role == "user"; }));
    };
    const size_t nth = userMessagesBefore(left, size_t(turn));
    m_sessions[0]->setTurns({left.begin(), left.begin() + turn});
    if (compareMode()) {
        const std::vector<awq::chat::ConversationTurn> right = m_sessions[1]->turns();
        size_t end = 0;
        while (end < right.size() && !(right[end].message.role == "user" && userMessagesBefore(right, end) == nth))
            ++end;
        m_sessions[1]->setTurns({right.begin(), right.begin() + std::ptrdiff_t(end)});
    }
    m_currentId = m_conversations->newId();
    m_conversations->setCurrentId(QString());
    // Until the edited message is sent (nameBranchAfter), the branch is named after its origin.
    m_title = branchTitle(title);
    m_branchUnnamed = true;
    m_createdAt = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);

    m_input->setPlainText(QString::fromStdString(left[size_t(turn)].message.content));
    m_input->setFocus();
    m_input->moveCursor(QTextCursor::End);
    m_statusLabel->setText(tr("Editing message %1 in a new branch: change it and press Enter. \"%2\" stays in the "
                              "conversation list as it was.")
                               .arg(nth + 1)
                               .arg(title));
    updateButtons();
}

void ChatPage::nameBranchAfter(const QString &message)
{
    awq::chat::ConversationTurn edited;
    edited.message.role = "user";
    edited.message.content = message.toStdString();
    m_title = branchTitle(titleFor({edited}));
    m_branchUnnamed = false;
}

bool ChatPage::exportMarkdownTo(const QString &file)
{
    QSaveFile out(file);
    const QByteArray text = QByteArray::fromStdString(awq::chat::toMarkdown(conversation()));
    if (!out.open(QIODevice::WriteOnly) || out.write(text) != text.size() || !out.commit()) {
        reportError(tr("Could not export the conversation"),
                    tr("%1: %2").arg(QDir::toNativeSeparators(file), out.errorString()));
        return false;
    }
    m_statusLabel->setText(tr("Exported %1.").arg(QDir::toNativeSeparators(file)));
    return true;
}

