#pragma once
// ChatTranscriptView: the read-only transcript of one chat session. Renders the turns
// (a role heading, the text, and under each reply its statistics) with palette colours,
// so it follows a dark theme; a reply being generated is appended piece by piece at the
// end, and the view follows it while scrolled to the bottom. GUI thread only.

#include <vector>

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

protected:
    // Colours come from the palette when the text is written: a theme change re-renders.
    void changeEvent(QEvent *event) override;

private:
    void appendHeading(const QString &role);
    void appendBody(const QString &text);
    bool atBottom() const;
    void scrollToBottom();

    QString m_placeholder;
    bool m_empty = true;
    bool m_streaming = false; // between beginReply() and the next setTurns()
    std::vector<awq::chat::ConversationTurn> m_turns; // as last shown
};
