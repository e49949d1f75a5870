#pragma once
// ConversationList: the Chat page's side panel of saved conversations, as in GPT4All and
// LM Studio. Every conversation is autosaved (awq/chat/conversation.h JSON, both sides in
// compare mode) as one file in a folder of the user's application data; the list shows
// them newest first, filters them by a search over titles and messages, and renames or
// deletes them. Nothing is lost on New Chat, so it needs no warning. GUI thread only.

#include <optional>
#include <vector>

#include <QString>
#include <QWidget>

#include "awq/chat/conversation.h"

class QLineEdit;
class QListWidget;
class QPushButton;

class ConversationList final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ConversationList)

public:
    // `folder` holds the conversations (created when needed); empty: the default,
    // <application data>/conversations.
    explicit ConversationList(const QString &folder = QString(), QWidget *parent = nullptr);

    static QString defaultFolder();
    QString folder() const { return m_folder; }

    // A new id for a conversation not saved yet (time-ordered, unique in the folder).
    QString newId() const;
    // Saves `conversation` under `id` (replacing what was saved) and lists it first; the
    // error names the file, empty on success.
    QString save(const QString &id, const awq::chat::Conversation &conversation);
    // The saved conversation `id`; nothing (and *error naming the file) when it cannot be read.
    std::optional<awq::chat::Conversation> load(const QString &id, QString *error) const;
    bool rename(const QString &id, const QString &title);
    bool remove(const QString &id);

    // Ids as listed now (newest first, filtered by the search text).
    QStringList shownIds() const;
    QString currentId() const;
    // Marks `id` as the conversation shown on the page (selected in the list).
    void setCurrentId(const QString &id);
    void setSearchText(const QString &text);

Q_SIGNALS:
    // The user picked a conversation in the list.
    void openRequested(const QString &id);
    // The user deleted the conversation the page shows.
    void currentRemoved();
    void renamed(const QString &id, const QString &title);

private:
    struct Entry {
        QString id;
        QString title;
        QString searchable; // title and messages, lower case
        QString updated;    // file time, for sorting and the tooltip
    };
    QString fileOf(const QString &id) const;
    void reload();
    void refill();
    void renameSelected();
    void removeSelected();

    QString m_folder;
    QString m_currentId;
    std::vector<Entry> m_entries; // newest first
    QLineEdit *m_search = nullptr;
    QListWidget *m_list = nullptr;
    QPushButton *m_renameButton = nullptr;
    QPushButton *m_deleteButton = nullptr;
    bool m_filling = false;
};
