#include "chattranscriptview.h"

#include <QClipboard>
#include <QDesktopServices>
#include <QEvent>
#include <QGuiApplication>
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
    connect(this, &QTextBrowser::anchorClicked, this, [this](const QUrl &link) {
        if (copyLink(link))
            return;
        if (const int turn = editedTurn(link); turn >= 0) {
            Q_EMIT editRequested(turn);
            return;
        }
        // Links in a reply open in the browser; nothing else is followed.
        if (link.scheme() == QLatin1String("http") || link.scheme() == QLatin1String("https"))
            QDesktopServices::openUrl(link);
    });
    setFrameShape(QFrame::StyledPanel);
    document()->setDocumentMargin(12);
}

QString ChatTranscriptView::statsText(const awq::chat::ReplyStats &stats)
{
    return tr("%1 tokens · %2 tok/s · prompt %3 tokens at %4 tok/s · first token after %5 s · total %6 s · stop: %7 · "
              "seed %8")
        .arg(stats.generatedTokens)
        .arg(stats.generationTokensPerSecond, 0, 'f', 1)
        .arg(stats.promptTokens)
        .arg(stats.promptTokensPerSecond, 0, 'f', 1)
        .arg(stats.timeToFirstTokenSeconds, 0, 'f', 2)
        .arg(stats.totalSeconds, 0, 'f', 2)
        .arg(QString::fromStdString(stats.stopReason))
        .arg(stats.seed);
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

int ChatTranscriptView::editedTurn(const QUrl &link) const
{
    const QString text = link.toString();
    const QString prefix = QStringLiteral("edit:turn/");
    if (!text.startsWith(prefix))
        return -1;
    bool ok = false;
    const int turn = text.mid(prefix.size()).toInt(&ok);
    return ok && turn >= 0 && turn < int(m_turns.size()) && m_turns[size_t(turn)].message.role == "user" ? turn : -1;
}

void ChatTranscriptView::setEditable(bool editable)
{
    if (m_editable == editable)
        return;
    m_editable = editable;
    if (!m_streaming)
        setTurns(m_turns);
}

bool ChatTranscriptView::copyLink(const QUrl &link)
{
    const auto it = m_copyTexts.constFind(link.toString());
    if (it == m_copyTexts.constEnd())
        return false;
    QGuiApplication::clipboard()->setText(*it);
    return true;
}

void ChatTranscriptView::appendLinkLine(const QString &prefix, const QString &link, const QString &text,
                                        const QString &secondLink, const QString &secondText)
{
    QTextCursor cursor(document());
    cursor.movePosition(QTextCursor::End);
    QTextBlockFormat block;
    block.setTopMargin(2);
    QTextCharFormat muted;
    muted.setForeground(palette().color(QPalette::PlaceholderText));
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    muted.setFont(small);
    cursor.insertBlock(block, muted);
    if (!prefix.isEmpty())
        cursor.insertText(prefix + QStringLiteral("  ·  "), muted);
    QTextCharFormat anchor = muted;
    anchor.setAnchor(true);
    anchor.setAnchorHref(link);
    anchor.setForeground(palette().color(QPalette::Link));
    cursor.insertText(text, anchor);
    if (secondLink.isEmpty())
        return;
    cursor.insertText(QStringLiteral("  ·  "), muted);
    anchor.setAnchorHref(secondLink);
    cursor.insertText(secondText, anchor);
}

void ChatTranscriptView::appendMarkdown(const QString &markdown, int turn)
{
    QTextCursor cursor(document());
    cursor.movePosition(QTextCursor::End);
    const int start = cursor.position();
    cursor.insertMarkdown(markdown, QTextDocument::MarkdownFeatures(QTextDocument::MarkdownDialectGitHub
                                                                    | QTextDocument::MarkdownNoHTML));
    // Runs of code blocks: shaded, fixed pitch, and a copy link after each run.
    struct Run { int last; QString text; };
    std::vector<Run> runs;
    bool inRun = false;
    for (QTextBlock block = document()->findBlock(start); block.isValid(); block = block.next()) {
        const QTextBlockFormat format = block.blockFormat();
        const bool code = format.hasProperty(QTextFormat::BlockCodeFence)
                          || format.hasProperty(QTextFormat::BlockCodeLanguage)
                          || format.nonBreakableLines();
        if (!code) {
            inRun = false;
            continue;
        }
        QTextBlockFormat shaded = format;
        shaded.setBackground(palette().color(QPalette::AlternateBase));
        shaded.setLeftMargin(6);
        QTextCursor c(block);
        c.setBlockFormat(shaded);
        c.movePosition(QTextCursor::EndOfBlock, QTextCursor::KeepAnchor);
        QTextCharFormat mono;
        mono.setFontFixedPitch(true);
        mono.setFontFamilies({QStringLiteral("monospace")});
        c.mergeCharFormat(mono);
        if (!inRun)
            runs.push_back({block.blockNumber(), block.text()});
        else {
            runs.back().last = block.blockNumber();
            runs.back().text += QLatin1Char('\n') + block.text();
        }
        inRun = true;
    }
    // From the last run back, so that the block numbers of the earlier ones still hold.
    for (int k = int(runs.size()) - 1; k >= 0; --k) {
        const QString link = QStringLiteral("copy:code/%1/%2").arg(turn).arg(k);
        m_copyTexts.insert(link, runs[size_t(k)].text);
        QTextCursor c(document()->findBlockByNumber(runs[size_t(k)].last));
        c.movePosition(QTextCursor::EndOfBlock);
        QTextBlockFormat plain;
        plain.setTopMargin(0);
        QTextCharFormat anchor;
        anchor.setAnchor(true);
        anchor.setAnchorHref(link);
        anchor.setForeground(palette().color(QPalette::Link));
        QFont small = font();
        small.setPointSizeF(small.pointSizeF() * 0.85);
        anchor.setFont(small);
        c.insertBlock(plain, anchor);
        c.insertText(tr("Copy code"), anchor);
    }
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
    m_copyTexts.clear();
    m_empty = turns.empty();
    if (m_empty) {
        QTextCursor cursor(document());
        QTextCharFormat muted;
        muted.setForeground(palette().color(QPalette::PlaceholderText));
        cursor.insertText(m_placeholder, muted);
        return;
    }
    for (int i = 0; i < int(turns.size()); ++i) {
        const awq::chat::ConversationTurn &turn = turns[size_t(i)];
        appendHeading(roleTitle(turn.message.role));
        const QString content = QString::fromStdString(turn.message.content);
        // Replies as Markdown (models write it); what people typed stays as typed.
        if (turn.message.role == "assistant")
            appendMarkdown(content, i);
        else
            appendBody(content);
        const QString link = QStringLiteral("copy:turn/%1").arg(i);
        m_copyTexts.insert(link, content);
        // A message the user wrote can be edited: that starts a new branch of the conversation.
        const bool editable = m_editable && turn.message.role == "user";
        appendLinkLine(turn.stats ? statsText(*turn.stats) : QString(), link, tr("Copy"),
                       editable ? QStringLiteral("edit:turn/%1").arg(i) : QString(), tr("Edit"));
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
