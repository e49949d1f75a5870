#include "chatpage.h"

#include <algorithm>

#include <QCheckBox>
#include <QDateTime>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QScrollArea>
#include <QSettings>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QStyle>
#include <QVBoxLayout>

#include <cmath>

#include "awq/chat/generation_defaults.h"
#include "awq/core/error.h"
#include "appsettings.h"
#include "chatsessionwidget.h"
#include "chattranscriptview.h"
#include "chatworker.h"
#include "conversationlist.h"
#include "serverpanel.h"
#include "quantizepagehelpers.h"

namespace {


// Enter sends, Shift+Enter starts a new line.
class SendOnEnterFilter final : public QObject
{
public:
    SendOnEnterFilter(ChatPage *page) : QObject(page), m_page(page) {}
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() == QEvent::KeyPress) {
            const auto *key = static_cast<QKeyEvent *>(event);
            if ((key->key() == Qt::Key_Return || key->key() == Qt::Key_Enter)
                && !(key->modifiers() & Qt::ShiftModifier)) {
                m_page->send();
                return true;
            }
        }
        return QObject::eventFilter(watched, event);
    }

private:
    ChatPage *m_page;
};

// The user's messages of a conversation, in order: two sides of a comparison share them.
std::vector<std::string> userMessages(const std::vector<awq::chat::ConversationTurn> &turns)
{
    std::vector<std::string> out;
    for (const auto &turn : turns)
        if (turn.message.role == "user")
            out.push_back(turn.message.content);
    return out;
}

} // namespace

ChatPage::ChatPage(QWidget *parent) : QWidget(parent)
{
    m_createdAt = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);

    // Toolbar row.
    m_newButton = new QPushButton(tr("New Chat"));
    m_newButton->setObjectName(QStringLiteral("chatNewButton"));
    auto *openButton = new QPushButton(tr("Open…"));
    openButton->setObjectName(QStringLiteral("chatOpenButton"));
    auto *saveButton = new QPushButton(tr("Save…"));
    saveButton->setObjectName(QStringLiteral("chatSaveButton"));
    auto *exportButton = new QPushButton(tr("Export Markdown…"));
    exportButton->setObjectName(QStringLiteral("chatExportButton"));
    m_compareCheck = new QCheckBox(tr("Compare with a second model"));
    m_compareCheck->setObjectName(QStringLiteral("chatCompareCheck"));
    m_compareCheck->setToolTip(tr("Send each message to two models side by side (for example the full-precision "
                                  "model and its AWQ version). They answer one after the other, so each speed is "
                                  "measured with the whole machine."));
    auto *toolbar = new QHBoxLayout;
    toolbar->addWidget(m_newButton);
    toolbar->addWidget(openButton);
    toolbar->addWidget(saveButton);
    toolbar->addWidget(exportButton);
    toolbar->addStretch(1);
    toolbar->addWidget(m_compareCheck);

    // Sessions.
    m_sessions[0] = new ChatSessionWidget(tr("Model"));
    m_sessions[0]->setObjectName(QStringLiteral("chatSessionA"));
    m_sessions[1] = new ChatSessionWidget(tr("Compare with"));
    m_sessions[1]->setObjectName(QStringLiteral("chatSessionB"));
    m_sessions[1]->setVisible(false);
    m_sessionSplitter = new QSplitter(Qt::Horizontal);
    m_sessionSplitter->setObjectName(QStringLiteral("chatSessionSplitter"));
    m_sessionSplitter->addWidget(m_sessions[0]);
    m_sessionSplitter->addWidget(m_sessions[1]);
    m_sessionSplitter->setChildrenCollapsible(false);

    // Message box.
    m_input = new QPlainTextEdit;
    m_input->setObjectName(QStringLiteral("chatInput"));
    m_input->setPlaceholderText(tr("Message (Enter sends, Shift+Enter for a new line)"));
    m_input->setMaximumHeight(90);
    m_input->setTabChangesFocus(true); // Tab moves on to Send; keyboard users are not trapped
    m_input->installEventFilter(new SendOnEnterFilter(this));
    m_sendButton = new QPushButton(tr("Send"));
    m_sendButton->setObjectName(QStringLiteral("chatSendButton"));
    m_sendButton->setDefault(true);
    m_stopButton = new QPushButton(tr("Stop"));
    m_stopButton->setObjectName(QStringLiteral("chatStopButton"));
    m_stopButton->setToolTip(tr("Stop the reply (Esc); the text so far is kept"));
    m_regenerateButton = new QPushButton(tr("Regenerate"));
    m_regenerateButton->setObjectName(QStringLiteral("chatRegenerateButton"));
    m_editButton = new QPushButton(tr("Edit Last"));
    m_editButton->setObjectName(QStringLiteral("chatEditButton"));
    m_editButton->setToolTip(tr("Take the last message back into the box (its reply is removed) to change and resend it"));
    auto *buttons = new QVBoxLayout;
    buttons->addWidget(m_sendButton);
    buttons->addWidget(m_stopButton);
    auto *buttons2 = new QVBoxLayout;
    buttons2->addWidget(m_regenerateButton);
    buttons2->addWidget(m_editButton);
    auto *inputRow = new QHBoxLayout;
    inputRow->addWidget(m_input, 1);
    inputRow->addLayout(buttons);
    inputRow->addLayout(buttons2);
    m_statusLabel = new QLabel;
    m_statusLabel->setObjectName(QStringLiteral("chatStatusLabel"));
    m_statusLabel->setWordWrap(true);

    m_chatColumn = new QWidget;
    auto *chatLayout = new QVBoxLayout(m_chatColumn);
    chatLayout->setContentsMargins(0, 0, 0, 0);
    chatLayout->addWidget(m_sessionSplitter, 1);
    chatLayout->addLayout(inputRow);
    chatLayout->addWidget(m_statusLabel);

    // Side panel: system prompt and sampling.
    m_systemEdit = new QPlainTextEdit;
    m_systemEdit->setObjectName(QStringLiteral("chatSystemPrompt"));
    m_systemEdit->setPlaceholderText(tr("Optional instructions sent first, as the system message"));
    m_systemEdit->setTabChangesFocus(true);
    auto *systemBox = new QGroupBox(tr("System prompt"));
    auto *systemLayout = new QVBoxLayout(systemBox);
    systemLayout->addWidget(m_systemEdit);

    m_temperatureSpin = new QDoubleSpinBox;
    m_temperatureSpin->setObjectName(QStringLiteral("chatTemperatureSpin"));
    m_temperatureSpin->setRange(0.0, 2.0);
    m_temperatureSpin->setSingleStep(0.05);
    m_temperatureSpin->setToolTip(tr("0 picks the most likely token every time (greedy)"));
    m_topPSpin = new QDoubleSpinBox;
    m_topPSpin->setObjectName(QStringLiteral("chatTopPSpin"));
    m_topPSpin->setRange(0.01, 1.0);
    m_topPSpin->setSingleStep(0.05);
    m_topKSpin = new QSpinBox;
    m_topKSpin->setObjectName(QStringLiteral("chatTopKSpin"));
    m_topKSpin->setRange(0, 100000);
    m_topKSpin->setSpecialValueText(tr("off"));
    m_minPSpin = new QDoubleSpinBox;
    m_minPSpin->setObjectName(QStringLiteral("chatMinPSpin"));
    m_minPSpin->setRange(0.0, 1.0);
    m_minPSpin->setSingleStep(0.01);
    m_minPSpin->setSpecialValueText(tr("off"));
    m_minPSpin->setToolTip(tr("Drops tokens less likely than this fraction of the most likely one (0.05 is common)"));
    m_repetitionSpin = new QDoubleSpinBox;
    m_repetitionSpin->setObjectName(QStringLiteral("chatRepetitionSpin"));
    m_repetitionSpin->setRange(1.0, 2.0);
    m_repetitionSpin->setSingleStep(0.05);
    m_maxTokensSpin = new QSpinBox;
    m_maxTokensSpin->setObjectName(QStringLiteral("chatMaxTokensSpin"));
    m_maxTokensSpin->setRange(1, 32768);
    m_seedSpin = new QSpinBox;
    m_seedSpin->setObjectName(QStringLiteral("chatSeedSpin"));
    m_seedSpin->setRange(0, 999999999);
    m_randomSeedCheck = new QCheckBox(tr("Random seed"));
    m_randomSeedCheck->setObjectName(QStringLiteral("chatRandomSeedCheck"));
    m_randomSeedCheck->setToolTip(tr("A new seed for every reply, so Regenerate gives another answer (the seed used "
                                     "is shown under each reply). Untick to repeat replies with a fixed seed."));
    connect(m_randomSeedCheck, &QCheckBox::toggled, m_seedSpin, [this](bool random) { m_seedSpin->setEnabled(!random); });
    m_modelDefaultsButton = new QPushButton(tr("Model Defaults"));
    m_modelDefaultsButton->setObjectName(QStringLiteral("chatModelDefaultsButton"));
    m_modelDefaultsButton->setEnabled(false);
    m_modelDefaultsButton->setToolTip(tr("The sampling values the loaded model's generation_config.json recommends"));
    auto *samplingBox = new QGroupBox(tr("Sampling"));
    auto *form = new QFormLayout(samplingBox);
    form->addRow(tr("Temperature"), m_temperatureSpin);
    form->addRow(tr("Top-p"), m_topPSpin);
    form->addRow(tr("Top-k"), m_topKSpin);
    form->addRow(tr("Min-p"), m_minPSpin);
    form->addRow(tr("Repetition penalty"), m_repetitionSpin);
    form->addRow(tr("Max new tokens"), m_maxTokensSpin);
    form->addRow(tr("Seed"), m_seedSpin);
    form->addRow(QString(), m_randomSeedCheck);
    form->addRow(QString(), m_modelDefaultsButton);

    auto *side = new QWidget;
    auto *sideLayout = new QVBoxLayout(side);
    sideLayout->setContentsMargins(0, 0, 0, 0);
    sideLayout->addWidget(systemBox, 1);
    sideLayout->addWidget(samplingBox);
    m_serverPanel = new ServerPanel;
    sideLayout->addWidget(m_serverPanel);
    // In a low window the panel scrolls instead of making the window taller than the screen.
    auto *sideScroll = new QScrollArea;
    sideScroll->setObjectName(QStringLiteral("chatSidePanel"));
    sideScroll->setWidget(side);
    sideScroll->setWidgetResizable(true);
    sideScroll->setFrameShape(QFrame::NoFrame);
    sideScroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    const int scrollBar = sideScroll->style()->pixelMetric(QStyle::PM_ScrollBarExtent);
    sideScroll->setMinimumWidth(std::max(220, side->minimumSizeHint().width()) + scrollBar);
    sideScroll->setMaximumWidth(320 + scrollBar);

    m_conversations = new ConversationList;
    m_conversations->setObjectName(QStringLiteral("chatConversations"));
    m_conversations->setMinimumWidth(160);
    m_conversations->setMaximumWidth(280);
    m_currentId = m_conversations->newId();

    auto *body = new QSplitter(Qt::Horizontal);
    body->addWidget(m_conversations);
    body->addWidget(m_chatColumn);
    body->addWidget(sideScroll);
    body->setStretchFactor(1, 1);
    body->setSizes({200, 800, 260});
    body->setChildrenCollapsible(false);
    connect(body, &QSplitter::splitterMoved, this, &ChatPage::arrangeSessions);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(12, 10, 12, 10);
    layout->addLayout(toolbar);
    layout->addWidget(body, 1);

    restoreSettings();

    connect(m_sendButton, &QPushButton::clicked, this, &ChatPage::send);
    connect(m_stopButton, &QPushButton::clicked, this, &ChatPage::stop);
    connect(m_regenerateButton, &QPushButton::clicked, this, &ChatPage::regenerate);
    connect(m_editButton, &QPushButton::clicked, this, &ChatPage::editLast);
    connect(m_newButton, &QPushButton::clicked, this, &ChatPage::newChat);
    connect(m_compareCheck, &QCheckBox::toggled, this, &ChatPage::setCompareMode);
    auto *escape = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    escape->setContext(Qt::WidgetWithChildrenShortcut);
    connect(escape, &QShortcut::activated, this, &ChatPage::stop);
    connect(openButton, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, tr("Open Conversation"), QString(),
                                                          tr("Conversations (*.json);;All files (*)"));
        if (!file.isEmpty())
            openConversationFrom(file);
    });
    connect(saveButton, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getSaveFileName(this, tr("Save Conversation"), QStringLiteral("chat.json"),
                                                          tr("Conversations (*.json)"));
        if (!file.isEmpty())
            saveConversationTo(file);
    });
    connect(exportButton, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getSaveFileName(this, tr("Export Conversation as Markdown"),
                                                          QStringLiteral("chat.md"), tr("Markdown (*.md)"));
        if (!file.isEmpty())
            exportMarkdownTo(file);
    });
    for (ChatSessionWidget *session : m_sessions) {
        connect(session, &ChatSessionWidget::busyChanged, this, &ChatPage::updateButtons);
        connect(session, &ChatSessionWidget::modelLoaded, this, &ChatPage::updateButtons);
    }
    // "Serve this model" serves the left session's model, and stops when it loads another.
    connect(m_sessions[0], &ChatSessionWidget::modelLoaded, m_serverPanel,
            [this](const ChatModelSummary &summary) { m_serverPanel->setModel(summary.folder, summary.device); });
    connect(m_sessions[0]->controller(), &ChatController::loadStarted, m_serverPanel,
            [this] { m_serverPanel->setModel({}, {}); });
    connect(m_sessions[0], &ChatSessionWidget::replyFinished, this, &ChatPage::continueCompare);
    connect(m_sessions[0], &ChatSessionWidget::replyFailed, this, &ChatPage::continueCompare);
    // Saved after every reply (after each side's in compare mode).
    for (ChatSessionWidget *session : m_sessions)
        connect(session, &ChatSessionWidget::replyFinished, this, [this] {
            if (m_pending == Pending::None)
                autosave();
        });
    connect(m_conversations, &ConversationList::openRequested, this, &ChatPage::openSaved);
    connect(m_sessions[0]->transcript(), &ChatTranscriptView::editRequested, this, &ChatPage::editMessage);
    m_sessions[1]->transcript()->setEditable(false); // both sides are cut at the message edited on the left
    connect(m_sessions[0], &ChatSessionWidget::modelLoaded, this, &ChatPage::adaptToModel);
    connect(m_sessions[0], &ChatSessionWidget::contextLengthChanged, this, [this](qint64 tokens) {
        if (const QString note = fitMaxTokensToContext(tokens); !note.isEmpty())
            m_statusLabel->setText(note);
    });
    connect(m_modelDefaultsButton, &QPushButton::clicked, this, &ChatPage::applyModelDefaults);
    connect(m_conversations, &ConversationList::renamed, this, [this](const QString &id, const QString &title) {
        if (id == m_currentId) {
            m_title = title;
            m_branchUnnamed = false; // the user's name stays
        }
    });
    connect(m_conversations, &ConversationList::currentRemoved, this, [this] {
        m_currentId.clear(); // nothing to save the page's turns into: New Chat starts afresh
        newChat();
    });
    updateButtons();
}

ChatPage::~ChatPage()
{
    saveSettings();
}

bool ChatPage::compareMode() const
{
    return m_compareCheck->isChecked();
}

void ChatPage::setModelFolder(const QString &folder, bool load)
{
    m_sessions[0]->setModelFolder(folder);
    if (load)
        m_sessions[0]->loadModel(folder);
}

QString ChatPage::systemPrompt() const
{
    return m_systemEdit->toPlainText();
}

void ChatPage::arrangeSessions()
{
    // Side by side where the column has room for both, else one above the other (a small
    // screen): the column asks only for the wider of the two, so the window never has to
    // grow past the screen when compare mode is turned on.
    const int a = m_sessions[0]->minimumSizeHint().width(), b = m_sessions[1]->minimumSizeHint().width();
    m_sessionSplitter->setMinimumWidth(std::max(a, b));
    const bool sideBySide = !compareMode() || m_chatColumn->width() >= a + b + m_sessionSplitter->handleWidth();
    const Qt::Orientation orientation = sideBySide ? Qt::Horizontal : Qt::Vertical;
    if (m_sessionSplitter->orientation() != orientation) {
        m_sessionSplitter->setOrientation(orientation);
        for (ChatSessionWidget *session : m_sessions)
            session->setCompact(orientation == Qt::Vertical);
    }
}

void ChatPage::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    arrangeSessions();
}

void ChatPage::setCompareMode(bool on)
{
    if (m_compareCheck->isChecked() != on) {
        m_compareCheck->setChecked(on); // toggled() comes back here
        return;
    }
    if (!on)
        m_sessions[1]->stop();
    m_sessions[1]->setVisible(on);
    arrangeSessions(); // before the layout asks for room for both
    QStringList notes;
    // Turned on mid-conversation: both models must see the same history, or their
    // answers are not comparable. The right side starts from the left's turns, and says so.
    if (on && !m_sessions[0]->turns().empty() && userMessages(m_sessions[1]->turns()) != userMessages(m_sessions[0]->turns())
        && !m_sessions[1]->isBusy()) {
        m_sessions[1]->setTurns(m_sessions[0]->turns());
        notes << tr("The second model continues this conversation: its history starts with the first model's %n "
                    "message(s), so both answer the same prompt.",
                    nullptr, int(m_sessions[0]->turns().size()));
    }
    if (on && !m_sessions[1]->hasModel() && !m_sessions[1]->isBusy())
        notes << tr("Load a second model under \"Compare with\" to compare the two.");
    if (on || !notes.isEmpty())
        m_statusLabel->setText(notes.join(QLatin1Char(' ')));
    updateButtons();
}

void ChatPage::send()
{
    const QString text = m_input->toPlainText().trimmed();
    if (text.isEmpty())
        return;
    if (!m_sessions[0]->hasModel()) {
        m_statusLabel->setText(tr("Load a model first."));
        return;
    }
    if (m_sessions[0]->isBusy() || m_sessions[1]->isBusy() || m_pending != Pending::None)
        return;
    if (!m_sessions[0]->ask(text, systemPrompt(), settings()))
        return;
    if (m_branchUnnamed)
        nameBranchAfter(text);
    m_input->clear();
    m_statusLabel->clear();
    if (compareMode() && m_sessions[1]->hasModel()) {
        m_pending = Pending::Ask;
        m_pendingText = text;
    }
    updateButtons();
}

void ChatPage::continueCompare()
{
    const Pending pending = m_pending;
    m_pending = Pending::None;
    if (pending == Pending::Ask)
        m_sessions[1]->ask(m_pendingText, systemPrompt(), settings());
    else if (pending == Pending::Regenerate)
        m_sessions[1]->regenerate(systemPrompt(), settings());
    m_pendingText.clear();
    updateButtons();
}

void ChatPage::stop()
{
    m_pending = Pending::None;
    m_pendingText.clear();
    m_sessions[0]->stop();
    m_sessions[1]->stop();
    updateButtons();
}

void ChatPage::regenerate()
{
    if (m_sessions[0]->isBusy() || m_sessions[1]->isBusy())
        return;
    if (!m_sessions[0]->regenerate(systemPrompt(), settings()))
        return;
    if (compareMode() && m_sessions[1]->hasModel() && !m_sessions[1]->turns().empty())
        m_pending = Pending::Regenerate;
    updateButtons();
}

void ChatPage::editLast()
{
    if (m_sessions[0]->isBusy() || m_sessions[1]->isBusy())
        return;
    const QString text = m_sessions[0]->takeLastUserMessage();
    if (compareMode())
        m_sessions[1]->takeLastUserMessage();
    if (text.isEmpty())
        return;
    autosave();
    m_input->setPlainText(text);
    m_input->setFocus();
    m_input->moveCursor(QTextCursor::End);
    updateButtons();
}

void ChatPage::newChat()
{
    stop();
    if (!m_currentId.isEmpty())
        autosave(); // nothing is lost: the conversation stays in the list
    for (ChatSessionWidget *session : m_sessions)
        session->clearConversation();
    m_currentId = m_conversations->newId();
    m_conversations->setCurrentId(QString());
    m_title.clear();
    m_branchUnnamed = false;
    m_savedFolders[0].clear();
    m_savedFolders[1].clear();
    m_createdAt = QDateTime::currentDateTimeUtc().toString(Qt::ISODate);
    m_statusLabel->clear();
    m_input->setFocus();
    updateButtons();
}

void ChatPage::updateButtons()
{
    const bool busy = m_sessions[0]->isBusy() || m_sessions[1]->isBusy() || m_pending != Pending::None;
    const bool ready = m_sessions[0]->hasModel() && !busy;
    m_sendButton->setEnabled(ready);
    m_stopButton->setEnabled(m_sessions[0]->controller()->isGenerating() || m_sessions[1]->controller()->isGenerating()
                             || m_pending != Pending::None);
    m_regenerateButton->setEnabled(ready && !m_sessions[0]->turns().empty());
    m_editButton->setEnabled(!busy && !m_sessions[0]->turns().empty());
    m_newButton->setEnabled(true);
    m_compareCheck->setEnabled(!busy);
}
