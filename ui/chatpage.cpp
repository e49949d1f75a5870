#include "chatpage.h"

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
#include <QSettings>
#include <QShortcut>
#include <QSpinBox>
#include <QSplitter>
#include <QVBoxLayout>

#include <cmath>

#include "awq/core/error.h"
#include "appsettings.h"
#include "chatsessionwidget.h"
#include "chatworker.h"
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
    auto *sessions = new QSplitter(Qt::Horizontal);
    sessions->addWidget(m_sessions[0]);
    sessions->addWidget(m_sessions[1]);
    sessions->setChildrenCollapsible(false);

    // Message box.
    m_input = new QPlainTextEdit;
    m_input->setObjectName(QStringLiteral("chatInput"));
    m_input->setPlaceholderText(tr("Message (Enter sends, Shift+Enter for a new line)"));
    m_input->setMaximumHeight(90);
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

    auto *chatColumn = new QWidget;
    auto *chatLayout = new QVBoxLayout(chatColumn);
    chatLayout->setContentsMargins(0, 0, 0, 0);
    chatLayout->addWidget(sessions, 1);
    chatLayout->addLayout(inputRow);
    chatLayout->addWidget(m_statusLabel);

    // Side panel: system prompt and sampling.
    m_systemEdit = new QPlainTextEdit;
    m_systemEdit->setObjectName(QStringLiteral("chatSystemPrompt"));
    m_systemEdit->setPlaceholderText(tr("Optional instructions sent first, as the system message"));
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
    auto *samplingBox = new QGroupBox(tr("Sampling"));
    auto *form = new QFormLayout(samplingBox);
    form->addRow(tr("Temperature"), m_temperatureSpin);
    form->addRow(tr("Top-p"), m_topPSpin);
    form->addRow(tr("Top-k"), m_topKSpin);
    form->addRow(tr("Repetition penalty"), m_repetitionSpin);
    form->addRow(tr("Max new tokens"), m_maxTokensSpin);
    form->addRow(tr("Seed"), m_seedSpin);

    auto *side = new QWidget;
    auto *sideLayout = new QVBoxLayout(side);
    sideLayout->setContentsMargins(0, 0, 0, 0);
    sideLayout->addWidget(systemBox, 1);
    sideLayout->addWidget(samplingBox);
    m_serverPanel = new ServerPanel;
    sideLayout->addWidget(m_serverPanel);
    side->setMinimumWidth(220);
    side->setMaximumWidth(320);

    auto *body = new QSplitter(Qt::Horizontal);
    body->addWidget(chatColumn);
    body->addWidget(side);
    body->setStretchFactor(0, 1);
    body->setChildrenCollapsible(false);

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

awq::chat::ChatSettings ChatPage::settings() const
{
    awq::chat::ChatSettings s;
    s.temperature = m_temperatureSpin->value();
    s.topP = m_topPSpin->value();
    s.topK = m_topKSpin->value();
    s.repetitionPenalty = m_repetitionSpin->value();
    s.maxNewTokens = m_maxTokensSpin->value();
    s.seed = static_cast<uint64_t>(m_seedSpin->value());
    return s;
}

void ChatPage::setSettings(const awq::chat::ChatSettings &s)
{
    m_temperatureSpin->setValue(s.temperature);
    m_topPSpin->setValue(s.topP);
    m_topKSpin->setValue(int(s.topK));
    m_repetitionSpin->setValue(s.repetitionPenalty);
    m_maxTokensSpin->setValue(int(s.maxNewTokens));
    m_seedSpin->setValue(int(std::min<uint64_t>(s.seed, 999999999)));
}

QString ChatPage::systemPrompt() const
{
    return m_systemEdit->toPlainText();
}

void ChatPage::setCompareMode(bool on)
{
    if (!on)
        m_sessions[1]->stop();
    m_sessions[1]->setVisible(on);
    if (on && !m_sessions[1]->hasModel() && !m_sessions[1]->isBusy())
        m_statusLabel->setText(tr("Load a second model on the right to compare the two."));
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
    m_input->setPlainText(text);
    m_input->setFocus();
    m_input->moveCursor(QTextCursor::End);
    updateButtons();
}

void ChatPage::newChat()
{
    stop();
    for (ChatSessionWidget *session : m_sessions)
        session->clearConversation();
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

awq::chat::Conversation ChatPage::conversation() const
{
    awq::chat::Conversation c;
    c.turns = m_sessions[0]->turns();
    c.title = titleFor(c.turns).toStdString();
    c.modelFolder = m_sessions[0]->modelFolder().toStdString();
    c.systemPrompt = systemPrompt().trimmed().toStdString();
    c.settings = settings();
    c.createdAt = m_createdAt.toStdString();
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

bool ChatPage::openConversationFrom(const QString &file)
{
    if (m_sessions[0]->isBusy() || m_sessions[1]->isBusy()) {
        reportError(tr("Could not open the conversation"), tr("Stop the reply in progress first."));
        return false;
    }
    try {
        const awq::chat::Conversation c = awq::chat::loadConversation(quantui::toPath(file));
        m_sessions[0]->setTurns(c.turns);
        m_sessions[1]->clearConversation();
        m_systemEdit->setPlainText(QString::fromStdString(c.systemPrompt));
        setSettings(c.settings);
        m_createdAt = QString::fromStdString(c.createdAt);
        const QString folder = QString::fromStdString(c.modelFolder);
        if (!m_sessions[0]->hasModel() && !folder.isEmpty() && QFileInfo(folder).isDir())
            m_sessions[0]->loadModel(folder);
        m_statusLabel->setText(tr("Opened %1 (%n message(s)).", nullptr, int(c.turns.size()))
                                   .arg(QDir::toNativeSeparators(file)));
        updateButtons();
        return true;
    } catch (const std::exception &e) {
        reportError(tr("Could not open the conversation"), QString::fromStdString(e.what()));
        return false;
    }
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

void ChatPage::saveSettings() const
{
    QSettings settings(AppSettings::organization(), AppSettings::application());
    const awq::chat::ChatSettings s = this->settings();
    settings.setValue(QStringLiteral("chat/temperature"), s.temperature);
    settings.setValue(QStringLiteral("chat/topP"), s.topP);
    settings.setValue(QStringLiteral("chat/topK"), qint64(s.topK));
    settings.setValue(QStringLiteral("chat/repetitionPenalty"), s.repetitionPenalty);
    settings.setValue(QStringLiteral("chat/maxNewTokens"), qint64(s.maxNewTokens));
    settings.setValue(QStringLiteral("chat/seed"), quint64(s.seed));
    settings.setValue(QStringLiteral("chat/systemPrompt"), systemPrompt());
}

void ChatPage::restoreSettings()
{
    const QSettings settings(AppSettings::organization(), AppSettings::application());
    const awq::chat::ChatSettings defaults;
    awq::chat::ChatSettings s;
    // A hand-edited or damaged settings file: anything that is not a finite number falls
    // back to the default (the spin boxes clamp the rest to their ranges).
    const auto number = [&](const char *key, double fallback) {
        bool ok = false;
        const double v = settings.value(QLatin1String(key), fallback).toDouble(&ok);
        return ok && std::isfinite(v) ? v : fallback;
    };
    s.temperature = number("chat/temperature", defaults.temperature);
    s.topP = number("chat/topP", defaults.topP);
    s.topK = settings.value(QStringLiteral("chat/topK"), qint64(defaults.topK)).toLongLong();
    s.repetitionPenalty = number("chat/repetitionPenalty", defaults.repetitionPenalty);
    s.maxNewTokens = settings.value(QStringLiteral("chat/maxNewTokens"), qint64(defaults.maxNewTokens)).toLongLong();
    s.seed = settings.value(QStringLiteral("chat/seed"), quint64(defaults.seed)).toULongLong();
    setSettings(s);
    m_systemEdit->setPlainText(settings.value(QStringLiteral("chat/systemPrompt")).toString());
}
