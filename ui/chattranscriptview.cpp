#include "chattranscriptview.h"

#include <QEvent>
#include <QScrollBar>
#include <QTextBlock>
#include <QTextCursor>

namespace {

QString roleTitle(const std::string &role)
{
    if (role == "user")
        return QObject::tr("You");
    if (role == "assistant")
        return QObject::tr("Assistant");
    if (role == "system")
        return QObject::tr("System");
    return QString::fromStdString(role);
}

} // namespace

ChatTranscriptView::ChatTranscriptView(QWidget *parent) : QTextBrowser(parent)
{
    setOpenLinks(false);
    setReadOnly(true);
    setFrameShape(QFrame::StyledPanel);
    document()->setDocumentMargin(12);
}

QString ChatTranscriptView::statsText(const awq::chat::ReplyStats &stats)
{
    return tr("%1 tokens · %2 tok/s · prompt %3 tokens at %4 tok/s · first token after %5 s · total %6 s · stop: %7")
        .arg(stats.generatedTokens)
        .arg(stats.generationTokensPerSecond, 0, 'f', 1)
        .arg(stats.promptTokens)
        .arg(stats.promptTokensPerSecond, 0, 'f', 1)
        .arg(stats.timeToFirstTokenSeconds, 0, 'f', 2)
        .arg(stats.totalSeconds, 0, 'f', 2)
        .arg(QString::fromStdString(stats.stopReason));
}

void ChatTranscriptView::setPlaceholder(const QString &text)
{
    m_placeholder = text;
    if (m_empty)
        setTurns({});
}

bool ChatTranscriptView::atBottom() const
{
    const QScrollBar *bar = verticalScrollBar();
    return bar->value() >= bar->maximum() - 4;
}

void ChatTranscriptView::scrollToBottom()
{
    verticalScrollBar()->setValue(verticalScrollBar()->maximum());
}

void ChatTranscriptView::appendHeading(const QString &role)
{
    QTextCursor cursor(document());
    cursor.movePosition(QTextCursor::End);
    if (!document()->isEmpty() && !(document()->blockCount() == 1 && document()->firstBlock().text().isEmpty())) {
        QTextBlockFormat spaced;
        spaced.setTopMargin(10);
        cursor.insertBlock(spaced);
    }
    QTextCharFormat heading;
    heading.setFontWeight(QFont::Bold);
    heading.setForeground(palette().color(QPalette::Link));
    cursor.insertText(role, heading);
    QTextBlockFormat body;
    body.setTopMargin(2);
    cursor.insertBlock(body, QTextCharFormat());
}

void ChatTranscriptView::appendBody(const QString &text)
{
    QTextCursor cursor(document());
    cursor.movePosition(QTextCursor::End);
    QTextCharFormat plain;
    plain.setForeground(palette().color(QPalette::Text));
    cursor.insertText(text, plain);
}

void ChatTranscriptView::changeEvent(QEvent *event)
{
    QTextBrowser::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && !m_streaming) {
        const std::vector<awq::chat::ConversationTurn> turns = m_turns;
        setTurns(turns);
    }
}

void ChatTranscriptView::setTurns(const std::vector<awq::chat::ConversationTurn> &turns)
{
    const bool follow = atBottom();
    m_turns = turns;
    m_streaming = false;
    clear();
    m_empty = turns.empty();
    if (m_empty) {
        QTextCursor cursor(document());
        QTextCharFormat muted;
        muted.setForeground(palette().color(QPalette::PlaceholderText));
        cursor.insertText(m_placeholder, muted);
        return;
    }
    for (const awq::chat::ConversationTurn &turn : turns) {
        appendHeading(roleTitle(turn.message.role));
        appendBody(QString::fromStdString(turn.message.content));
        if (turn.stats) {
            QTextCursor cursor(document());
            cursor.movePosition(QTextCursor::End);
            QTextBlockFormat block;
            block.setTopMargin(4);
            QTextCharFormat muted;
            muted.setForeground(palette().color(QPalette::PlaceholderText));
            QFont small = font();
            small.setPointSizeF(small.pointSizeF() * 0.85);
            muted.setFont(small);
            cursor.insertBlock(block, muted);
            cursor.insertText(statsText(*turn.stats), muted);
        }
    }
    if (follow)
        scrollToBottom();
}

void ChatTranscriptView::beginReply()
{
    if (m_empty) {
        clear();
        m_empty = false;
    }
    const bool follow = atBottom();
    m_streaming = true;
    appendHeading(roleTitle("assistant"));
    if (follow)
        scrollToBottom();
}

void ChatTranscriptView::appendReplyText(const QString &text)
{
    const bool follow = atBottom();
    appendBody(text);
    if (follow)
        scrollToBottom();
}
