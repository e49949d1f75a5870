#include "conversationlist.h"

#include <algorithm>

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QInputDialog>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QPushButton>
#include <QStandardPaths>
#include <QVBoxLayout>

#include "quantizepagehelpers.h"

namespace {

constexpr int kIdRole = Qt::UserRole + 1;

QString searchableText(const awq::chat::Conversation &c)
{
    QString text = QString::fromStdString(c.title);
    for (const auto &turn : c.turns)
        text += QLatin1Char('\n') + QString::fromStdString(turn.message.content);
    if (c.compare)
        for (const auto &turn : c.compare->turns)
            text += QLatin1Char('\n') + QString::fromStdString(turn.message.content);
    return text.toLower();
}

} // namespace

ConversationList::ConversationList(const QString &folder, QWidget *parent)
    : QWidget(parent), m_folder(folder.isEmpty() ? defaultFolder() : folder)
{
    auto *title = new QLabel(tr("<b>Conversations</b>"));
    m_search = new QLineEdit;
    m_search->setObjectName(QStringLiteral("chatSearchEdit"));
    m_search->setPlaceholderText(tr("Search"));
    m_search->setClearButtonEnabled(true);
    m_list = new QListWidget;
    m_list->setObjectName(QStringLiteral("chatConversationList"));
    m_list->setToolTip(tr("Saved automatically after every reply. Double-click to rename."));
    // Long titles end in "…" (the whole title is the item's tooltip), not in a sideways scroll.
    m_list->setTextElideMode(Qt::ElideRight);
    m_list->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    m_renameButton = new QPushButton(tr("Rename…"));
    m_renameButton->setObjectName(QStringLiteral("chatRenameButton"));
    m_deleteButton = new QPushButton(tr("Delete"));
    m_deleteButton->setObjectName(QStringLiteral("chatDeleteButton"));
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_renameButton);
    buttons->addWidget(m_deleteButton);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(title);
    layout->addWidget(m_search);
    layout->addWidget(m_list, 1);
    layout->addLayout(buttons);

    connect(m_search, &QLineEdit::textChanged, this, &ConversationList::refill);
    connect(m_list, &QListWidget::currentItemChanged, this, [this](QListWidgetItem *item) {
        const bool any = item != nullptr;
        m_renameButton->setEnabled(any);
        m_deleteButton->setEnabled(any);
        if (!m_filling && item && item->data(kIdRole).toString() != m_currentId)
            Q_EMIT openRequested(item->data(kIdRole).toString());
    });
    connect(m_list, &QListWidget::itemDoubleClicked, this, &ConversationList::renameSelected);
    connect(m_renameButton, &QPushButton::clicked, this, &ConversationList::renameSelected);
    connect(m_deleteButton, &QPushButton::clicked, this, &ConversationList::removeSelected);
    reload();
}

QString ConversationList::defaultFolder()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) + QStringLiteral("/conversations");
}

QString ConversationList::fileOf(const QString &id) const
{
    return m_folder + QLatin1Char('/') + id + QStringLiteral(".json");
}

QString ConversationList::newId() const
{
    QString id = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-hhmmss-zzz"));
    for (int n = 2; QFileInfo::exists(fileOf(id)); ++n)
        id = QDateTime::currentDateTimeUtc().toString(QStringLiteral("yyyyMMdd-hhmmss-zzz")) + QLatin1Char('-')
             + QString::number(n);
    return id;
}

QString ConversationList::save(const QString &id, const awq::chat::Conversation &conversation)
{
    if (!QDir().mkpath(m_folder))
        return tr("%1: cannot create the conversations folder").arg(QDir::toNativeSeparators(m_folder));
    try {
        awq::chat::saveConversation(conversation, quantui::toPath(fileOf(id)));
    } catch (const std::exception &e) {
        return quantui::userMessage(e);
    }
    m_entries.erase(std::remove_if(m_entries.begin(), m_entries.end(), [&](const Entry &e) { return e.id == id; }),
                    m_entries.end());
    m_entries.insert(m_entries.begin(), Entry{id, QString::fromStdString(conversation.title),
                                              searchableText(conversation),
                                              QDateTime::currentDateTime().toString(Qt::ISODate)});
    refill();
    return QString();
}

std::optional<awq::chat::Conversation> ConversationList::load(const QString &id, QString *error) const
{
    try {
        return awq::chat::loadConversation(quantui::toPath(fileOf(id)));
    } catch (const std::exception &e) {
        *error = quantui::userMessage(e);
        return std::nullopt;
    }
}

bool ConversationList::rename(const QString &id, const QString &title)
{
    QString error;
    std::optional<awq::chat::Conversation> c = load(id, &error);
    if (!c || title.trimmed().isEmpty())
        return false;
    c->title = title.trimmed().toStdString();
    if (!save(id, *c).isEmpty())
        return false;
    Q_EMIT renamed(id, title.trimmed());
    return true;
}

bool ConversationList::remove(const QString &id)
{
    if (!QFile::remove(fileOf(id)) && QFileInfo::exists(fileOf(id)))
        return false;
    m_entries.erase(std::remove_if(m_entries.begin(), m_entries.end(), [&](const Entry &e) { return e.id == id; }),
                    m_entries.end());
    const bool wasCurrent = id == m_currentId;
    if (wasCurrent)
        m_currentId.clear();
    refill();
    if (wasCurrent)
        Q_EMIT currentRemoved();
    return true;
}

QStringList ConversationList::shownIds() const
{
    QStringList ids;
    for (int i = 0; i < m_list->count(); ++i)
        ids << m_list->item(i)->data(kIdRole).toString();
    return ids;
}

QString ConversationList::currentId() const
{
    return m_currentId;
}

void ConversationList::setCurrentId(const QString &id)
{
    m_currentId = id;
    refill();
}

void ConversationList::setSearchText(const QString &text)
{
    m_search->setText(text);
}

void ConversationList::reload()
{
    m_entries.clear();
    const QFileInfoList files =
        QDir(m_folder).entryInfoList({QStringLiteral("*.json")}, QDir::Files, QDir::Time); // newest first
    for (const QFileInfo &file : files) {
        try {
            const awq::chat::Conversation c = awq::chat::loadConversation(quantui::toPath(file.absoluteFilePath()));
            m_entries.push_back({file.completeBaseName(), QString::fromStdString(c.title), searchableText(c),
                                 file.lastModified().toString(Qt::ISODate)});
        } catch (const std::exception &) {
            // Not a conversation (or damaged): left alone on disk, not listed.
        }
    }
    refill();
}

void ConversationList::refill()
{
    m_filling = true;
    const QString needle = m_search->text().trimmed().toLower();
    m_list->clear();
    for (const Entry &entry : m_entries) {
        if (!needle.isEmpty() && !entry.searchable.contains(needle))
            continue;
        auto *item = new QListWidgetItem(entry.title.isEmpty() ? tr("Empty conversation") : entry.title, m_list);
        item->setData(kIdRole, entry.id);
        item->setToolTip(tr("%1\nsaved %2").arg(entry.title, entry.updated));
        if (entry.id == m_currentId)
            m_list->setCurrentItem(item);
    }
    m_renameButton->setEnabled(m_list->currentItem() != nullptr);
    m_deleteButton->setEnabled(m_list->currentItem() != nullptr);
    m_filling = false;
}

void ConversationList::renameSelected()
{
    QListWidgetItem *item = m_list->currentItem();
    if (!item)
        return;
    bool ok = false;
    const QString title = QInputDialog::getText(this, tr("Rename Conversation"), tr("Title:"), QLineEdit::Normal,
                                                item->text(), &ok);
    if (ok && !title.trimmed().isEmpty())
        rename(item->data(kIdRole).toString(), title);
}

void ConversationList::removeSelected()
{
    QListWidgetItem *item = m_list->currentItem();
    if (!item)
        return;
    if (QMessageBox::question(this, tr("Delete Conversation"), tr("Delete \"%1\"? This cannot be undone.").arg(item->text()),
                              QMessageBox::Yes | QMessageBox::No, QMessageBox::No)
        != QMessageBox::Yes)
        return;
    remove(item->data(kIdRole).toString());
}
