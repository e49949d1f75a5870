#pragma once
// ChatTranscriptView: the read-only transcript of one chat session. Renders the turns
// (a role heading, the text, and under each reply its statistics) with palette colours,
// so it follows a dark theme; a reply being generated is appended piece by piece at the
// end as plain text, and the view follows it while scrolled to the bottom. Finished
// replies are rendered as Markdown (QTextDocument's GitHub dialect, raw HTML off) with
// code blocks in a fixed-pitch font on a shaded background; every message has a "Copy"
// link and every code block a "Copy code" link (they put the text on the clipboard); the
// user's messages also have an "Edit" link (editRequested: ChatPage branches the conversation).
// GUI thread only.

#include <vector>

#include <QHash>
#include <QTextBrowser>

#include "awq/chat/conversation.h"

class ChatTranscriptView final : public QTextBrowser
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ChatTranscriptView)

public:
    explicit ChatTranscriptView(QWidget *parent = nullptr);

    // Shows these turns (replacing everything); `placeholder` is shown when there are none.
    void setTurns(const std::vector<awq::chat::ConversationTurn> &turns);
    void setPlaceholder(const QString &text);
    // Starts the heading of a reply after the turns shown.
    void beginReply();
    // Appends streamed text to the reply begun last.
    void appendReplyText(const QString &text);

    // One line of statistics for a reply ("42 tokens · 31.5 tok/s · first token 0.12 s ...").
    static QString statsText(const awq::chat::ReplyStats &stats);

    // The copy links shown now ("copy:turn/3", "copy:code/3/0", ...) and what each copies.
    QStringList copyLinks() const { return m_copyTexts.keys(); }
    // Puts the text of a copy link on the clipboard; false for a link that is not one.
    bool copyLink(const QUrl &link);
    // The turn an "Edit" link ("edit:turn/2") asks to edit; -1 for any other link.
    int editedTurn(const QUrl &link) const;
    // Whether the user's messages carry an "Edit" link (default true; the compare side
    // shows none: both sides are edited from the left).
    void setEditable(bool editable);

Q_SIGNALS:
    // An "Edit" link under the user's message `turn` was clicked.
    void editRequested(int turn);

protected:
    // Colours come from the palette when the text is written: a theme change re-renders.
    void changeEvent(QEvent *event) override;

private:
    void appendHeading(const QString &role);
    void appendBody(const QString &text);
    // Renders `markdown` at the end; code blocks are shaded and get a copy link each.
    void appendMarkdown(const QString &markdown, int turn);
    void appendLinkLine(const QString &prefix, const QString &link, const QString &text,
                        const QString &secondLink = QString(), const QString &secondText = QString());
    bool atBottom() const;
    void scrollToBottom();

    QString m_placeholder;
    bool m_empty = true;
    bool m_streaming = false; // between beginReply() and the next setTurns()
    bool m_editable = true;
    std::vector<awq::chat::ConversationTurn> m_turns; // as last shown
    QHash<QString, QString> m_copyTexts;              // copy link -> the text it copies
};
