#include "chatsessionwidget.h"

#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

#include <algorithm>

#include "awq/runtime/devices.h"
#include "awq/model/config.h"
#include "appsettings.h"
#include "chattranscriptview.h"
#include "memoryfit.h"
#include "quantizepagehelpers.h"
#include "theme.h"

namespace {

std::vector<awq::chat::ChatMessage> messagesFor(const QString &systemPrompt,
                                                const std::vector<awq::chat::ConversationTurn> &turns)
{
    std::vector<awq::chat::ChatMessage> messages;
    const QString system = systemPrompt.trimmed();
    if (!system.isEmpty())
        messages.push_back({"system", system.toStdString()});
    for (const awq::chat::ConversationTurn &turn : turns)
        messages.push_back(turn.message);
    return messages;
}

// QSettings key of the context length chosen per model folder (a map folder -> tokens).
const QString kContextLengthsKey = QStringLiteral("chat/contextLengths");

} // namespace

ChatSessionWidget::ChatSessionWidget(const QString &title, QWidget *parent) : QWidget(parent)
{
    m_controller = new ChatController(this);

    auto *titleLabel = new QLabel(QStringLiteral("<b>%1</b>").arg(title.toHtmlEscaped()));
    m_folderEdit = new QLineEdit;
    m_folderEdit->setObjectName(QStringLiteral("chatModelFolderEdit"));
    m_folderEdit->setPlaceholderText(tr("Model folder (full precision or AWQ)"));
    m_browseButton = new QPushButton(tr("Browse…"));
    m_loadButton = new QPushButton(tr("Load"));
    m_loadButton->setObjectName(QStringLiteral("chatLoadButton"));
    m_deviceCombo = new QComboBox;
    m_deviceCombo->setObjectName(QStringLiteral("chatDeviceCombo"));
    for (const awq::ComputeDevice &device : awq::availableDevices())
        m_deviceCombo->addItem(QString::fromStdString(device.label), QString::fromStdString(device.id));
    m_deviceCombo->setToolTip(m_deviceCombo->count() > 1
                                  ? tr("CPU: the fused int4/FP32 engine. GPU: fp16, AWQ weights dequantized at load.")
                                  : tr("No CUDA GPU is visible to this build's LibTorch: models run on the CPU."));
    auto *modelRow = new QHBoxLayout;
    modelRow->addWidget(titleLabel);
    modelRow->addWidget(m_folderEdit, 1);
    modelRow->addWidget(m_browseButton);
    modelRow->addWidget(m_deviceCombo);
    modelRow->addWidget(m_loadButton);

    m_modelLabel = new QLabel(tr("No model loaded."));
    m_modelLabel->setObjectName(QStringLiteral("chatModelLabel"));
    m_modelLabel->setWordWrap(true);
    m_modelLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_noticeLabel = new QLabel;
    m_noticeLabel->setObjectName(QStringLiteral("chatNoticeLabel"));
    m_noticeLabel->setWordWrap(true);
    m_noticeLabel->setVisible(false);
    m_fitLabel = new QLabel;
    m_fitLabel->setObjectName(QStringLiteral("chatFitLabel"));
    m_fitLabel->setTextFormat(Qt::RichText);
    m_fitLabel->setWordWrap(true);
    m_fitLabel->setVisible(false);
    m_loadProgress = new QProgressBar;
    m_loadProgress->setObjectName(QStringLiteral("chatLoadProgress"));
    m_loadProgress->setVisible(false);

    m_transcript = new ChatTranscriptView;
    m_transcript->setObjectName(QStringLiteral("chatTranscript"));
    m_transcript->setPlaceholder(tr("Load a model, then type a message below."));

    m_contextMeter = new QProgressBar;
    m_contextMeter->setObjectName(QStringLiteral("chatContextMeter"));
    m_contextMeter->setRange(0, 1);
    m_contextMeter->setValue(0);
    m_contextMeter->setFormat(tr("Context: no model"));
    m_contextMeter->setMaximumHeight(18);
    // The context replies may use, per model: the KV cache is allocated for at most this.
    m_contextSpin = new QSpinBox;
    m_contextSpin->setObjectName(QStringLiteral("chatContextSpin"));
    m_contextSpin->setKeyboardTracking(false); // a typed number counts once it is complete
    m_contextSpin->setToolTip(tr("Tokens the conversation may take, prompt and reply together. Older messages are "
                                 "left out of the prompt beyond it; the KV cache holds at most this many tokens. "
                                 "Remembered for this model."));
    m_contextCostLabel = new QLabel;
    m_contextCostLabel->setObjectName(QStringLiteral("chatContextCostLabel"));
    m_contextRow = new QWidget;
    auto *contextLayout = new QHBoxLayout(m_contextRow);
    contextLayout->setContentsMargins(0, 0, 0, 0);
    auto *contextLabel = new QLabel(tr("Context length"));
    contextLabel->setBuddy(m_contextSpin);
    contextLayout->addWidget(contextLabel);
    contextLayout->addWidget(m_contextSpin);
    contextLayout->addWidget(m_contextCostLabel, 1);
    m_contextRow->setVisible(false);

    m_statsLabel = new QLabel;
    m_statsLabel->setObjectName(QStringLiteral("chatStatsLabel"));
    m_statsLabel->setWordWrap(true);
    Theme::setTone(m_statsLabel, Theme::Tone::Muted);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(modelRow);
    layout->addWidget(m_modelLabel);
    layout->addWidget(m_noticeLabel);
    layout->addWidget(m_fitLabel);
    layout->addWidget(m_contextRow);
    layout->addWidget(m_loadProgress);
    layout->addWidget(m_transcript, 1);
    layout->addWidget(m_contextMeter);
    layout->addWidget(m_statsLabel);

    m_flushTimer.setInterval(30);
    connect(&m_flushTimer, &QTimer::timeout, this, &ChatSessionWidget::flushPending);

    connect(m_browseButton, &QPushButton::clicked, this, &ChatSessionWidget::browse);
    connect(m_loadButton, &QPushButton::clicked, this, [this] {
        if (m_controller->isLoading())
            m_controller->stop();
        else
            loadModel(m_folderEdit->text());
    });
    connect(m_folderEdit, &QLineEdit::returnPressed, this, [this] { loadModel(m_folderEdit->text()); });
    connect(m_folderEdit, &QLineEdit::textChanged, this, &ChatSessionWidget::showMemoryFit);
    connect(m_contextSpin, &QSpinBox::valueChanged, this, &ChatSessionWidget::contextChosen);
    connect(m_controller, &ChatController::loadStarted, this, &ChatSessionWidget::handleLoadStarted);
    connect(m_controller, &ChatController::loadProgress, this, &ChatSessionWidget::handleLoadProgress);
    connect(m_controller, &ChatController::loaded, this, &ChatSessionWidget::handleLoaded);
    connect(m_controller, &ChatController::loadFailed, this, &ChatSessionWidget::handleLoadFailed);
    connect(m_controller, &ChatController::loadCancelled, this, [this] {
        m_loadProgress->setVisible(false);
        m_modelLabel->setText(tr("Loading cancelled. No model loaded."));
        m_transcript->setPlaceholder(tr("Load a model, then type a message below."));
        updateButtons();
    });
    connect(m_controller, &ChatController::replyText, this, [this](const QString &piece) {
        // A reply starts at its first visible character (a template's "Answer:" is usually
        // followed by a token that begins with a space).
        QString text = piece;
        if (m_reply.isEmpty()) {
            while (!text.isEmpty() && text.front().isSpace())
                text.remove(0, 1);
            if (text.isEmpty())
                return;
        }
        m_reply += text;
        m_pending += text;
        if (!m_flushTimer.isActive())
            m_flushTimer.start();
    });
    connect(m_controller, &ChatController::replyFinished, this, &ChatSessionWidget::handleReplyFinished);
    connect(m_controller, &ChatController::tokensCounted, this, &ChatSessionWidget::updateContextMeter);
    connect(m_controller, &ChatController::replyFailed, this, &ChatSessionWidget::handleReplyFailed);
    connect(m_controller, &ChatController::busyChanged, this, [this](bool busy) {
        updateButtons();
        Q_EMIT busyChanged(busy);
        if (!busy && !m_queuedFolder.isEmpty())
            QTimer::singleShot(0, this, &ChatSessionWidget::loadQueuedModel);
    });
    updateButtons();
}

bool ChatSessionWidget::hasModel() const
{
    return m_controller->hasModel();
}

bool ChatSessionWidget::isBusy() const
{
    return m_controller->isLoading() || m_controller->isGenerating();
}

QString ChatSessionWidget::modelFolder() const
{
    return m_controller->hasModel() ? m_controller->model().folder : QString();
}

qint64 ChatSessionWidget::defaultContextLength(qint64 maxPositions)
{
    return std::clamp<qint64>(maxPositions, 1, 4096);
}

qint64 ChatSessionWidget::contextLength() const
{
    return hasModel() ? m_contextSpin->value() : 0;
}

void ChatSessionWidget::setContextLength(qint64 tokens)
{
    m_contextSpin->setValue(int(std::clamp<qint64>(tokens, m_contextSpin->minimum(), m_contextSpin->maximum())));
}

void ChatSessionWidget::showContextChoice()
{
    const ChatModelSummary &model = m_controller->model();
    const qint64 most = std::max<qint64>(1, model.contextLength);
    const QVariantMap saved =
        QSettings(AppSettings::organization(), AppSettings::application()).value(kContextLengthsKey).toMap();
    bool ok = false;
    const qint64 remembered = saved.value(model.folder).toLongLong(&ok);
    {
        const QSignalBlocker block(m_contextSpin);
        m_contextSpin->setRange(int(std::min<qint64>(most, 64)), int(std::min<qint64>(most, 1 << 30)));
        m_contextSpin->setSingleStep(most >= 8192 ? 1024 : most >= 1024 ? 256 : 32);
        m_contextSpin->setValue(int(ok && remembered > 0 ? std::min(remembered, most) : defaultContextLength(most)));
    }
    m_contextRow->setVisible(true);
    showContextCost();
}

void ChatSessionWidget::showContextCost()
{
    const ChatModelSummary &model = m_controller->model();
    // Keys and values of every layer for each token (fp32 on the CPU, fp16 on a GPU).
    m_contextCostLabel->setText(tr("of %1 tokens · KV cache up to %2")
                                    .arg(model.contextLength)
                                    .arg(quantui::bytesText(quint64(m_contextSpin->value()) * model.kvCacheBytesPerToken)));
}

void ChatSessionWidget::contextChosen(int tokens)
{
    if (!hasModel())
        return;
    const ChatModelSummary &model = m_controller->model();
    showContextCost();
    QSettings settings(AppSettings::organization(), AppSettings::application());
    QVariantMap saved = settings.value(kContextLengthsKey).toMap();
    if (saved.value(model.folder).toLongLong() != tokens) {
        saved.insert(model.folder, qint64(tokens));
        settings.setValue(kContextLengthsKey, saved);
    }
    updateContextMeter(m_usedTokens);
    Q_EMIT contextLengthChanged(tokens);
}

void ChatSessionWidget::setModelFolder(const QString &folder)
{
    m_folderEdit->setText(QDir::toNativeSeparators(folder));
}

void ChatSessionWidget::showMemoryFit()
{
    // Before loading: what the folder's model needs against what is free. Only config.json
    // is read (a few kilobytes), so this can follow typing.
    const QString folder = quantui::absoluteClean(m_folderEdit->text());
    const bool loaded = hasModel() && QDir::cleanPath(m_controller->model().folder) == folder;
    if (folder.isEmpty() || loaded || !QFileInfo::exists(folder + QStringLiteral("/config.json"))) {
        m_fitLabel->setVisible(false);
        return;
    }
    try {
        const awq::ModelConfig config = awq::ModelConfig::load(quantui::toPath(folder));
        Theme::setTonedText(m_fitLabel, tr("Memory: %1").arg(memoryfit::describe(memoryfit::estimate(config))));
        m_fitLabel->setVisible(true);
    } catch (const std::exception &) {
        m_fitLabel->setVisible(false); // Load says what is wrong with it
    }
}

void ChatSessionWidget::browse()
{
    const QString start = m_folderEdit->text().trimmed().isEmpty() ? QDir::homePath() : m_folderEdit->text();
    const QString folder = QFileDialog::getExistingDirectory(this, tr("Model Folder to Chat With"), start);
    if (!folder.isEmpty()) {
        setModelFolder(folder);
        loadModel(folder);
    }
}

void ChatSessionWidget::loadModel(const QString &folder)
{
    const QString absolute = quantui::absoluteClean(folder);
    if (absolute.isEmpty()) {
        m_modelLabel->setText(tr("Choose a model folder first."));
        return;
    }
    setModelFolder(absolute);
    if (isBusy()) {
        // Another model was asked for while one loads or answers: that one is stopped and
        // this one loads next, so the model in use is always the one the field names.
        m_queuedFolder = absolute;
        m_controller->stop();
        return;
    }
    m_queuedFolder.clear();
    m_controller->load(absolute, m_deviceCombo->currentData().toString());
}

void ChatSessionWidget::loadQueuedModel()
{
    if (m_queuedFolder.isEmpty() || isBusy())
        return;
    const QString folder = m_queuedFolder;
    m_queuedFolder.clear();
    loadModel(folder);
}

void ChatSessionWidget::handleLoadStarted(const QString &folder)
{
    m_modelLabel->setText(tr("Loading %1…").arg(QDir::toNativeSeparators(folder)));
    m_noticeLabel->setVisible(false);
    m_transcript->setPlaceholder(tr("Loading the model…"));
    m_loadProgress->setRange(0, 0);
    m_loadProgress->setVisible(true);
    m_contextRow->setVisible(false);
    updateContextMeter(0);
    updateButtons();
}

void ChatSessionWidget::handleLoadProgress(qint64 done, qint64 total, const QString &note)
{
    if (total > 0) {
        m_loadProgress->setRange(0, 1000);
        m_loadProgress->setValue(int(1000.0 * double(done) / double(total)));
    }
    m_loadProgress->setFormat(note.isEmpty() ? QStringLiteral("%p%") : note + QStringLiteral("  %p%"));
}

void ChatSessionWidget::handleLoaded(const ChatModelSummary &summary)
{
    m_loadProgress->setVisible(false);
    m_modelLabel->setText(tr("%1 — %2 · %3 · context %4 tokens · %5 · loaded in %6 s")
                              .arg(QFileInfo(summary.folder).fileName(), summary.precision,
                                   quantui::bytesText(summary.weightBytes))
                              .arg(summary.contextLength)
                              .arg(summary.device == QLatin1String("cpu") ? tr("CPU") : summary.device)
                              .arg(summary.loadSeconds, 0, 'f', 1));
    m_modelLabel->setToolTip(summary.description);
    m_noticeLabel->setText(summary.notice);
    m_noticeLabel->setVisible(!summary.notice.isEmpty());
    m_transcript->setPlaceholder(tr("Type a message below to start."));
    m_fitLabel->setVisible(false);
    showContextChoice();
    measureContext(); // a conversation restored before the model loaded counts now
    updateButtons();
    Q_EMIT modelLoaded(summary);
}

void ChatSessionWidget::handleLoadFailed(const QString &folder, const QString &message)
{
    m_loadProgress->setVisible(false);
    m_modelLabel->setText(tr("Could not load %1: %2").arg(QDir::toNativeSeparators(folder), message));
    m_transcript->setPlaceholder(tr("Load a model, then type a message below."));
    updateButtons();
}

bool ChatSessionWidget::ask(const QString &userText, const QString &systemPrompt,
                            const awq::chat::ChatSettings &settings)
{
    if (!hasModel() || isBusy() || userText.trimmed().isEmpty())
        return false;
    m_turns.push_back({{"user", userText.toStdString()}, std::nullopt});
    if (!startReply(systemPrompt, settings)) {
        m_turns.pop_back();
        m_transcript->setTurns(m_turns);
        return false;
    }
    return true;
}

bool ChatSessionWidget::regenerate(const QString &systemPrompt, const awq::chat::ChatSettings &settings)
{
    if (!hasModel() || isBusy() || m_turns.empty())
        return false;
    if (m_turns.back().message.role == "assistant")
        m_turns.pop_back();
    if (m_turns.empty())
        return false;
    return startReply(systemPrompt, settings);
}

bool ChatSessionWidget::startReply(const QString &systemPrompt, const awq::chat::ChatSettings &settings)
{
    m_systemPrompt = systemPrompt;
    m_transcript->setTurns(m_turns);
    m_reply.clear();
    m_pending.clear();
    awq::chat::ChatSettings withContext = settings;
    withContext.contextLength = contextLength();
    if (m_controller->send(messagesFor(systemPrompt, m_turns), withContext) == 0)
        return false;
    m_transcript->beginReply();
    m_statsLabel->setText(tr("Generating…"));
    return true;
}

QString ChatSessionWidget::takeLastUserMessage()
{
    if (isBusy())
        return {};
    while (!m_turns.empty() && m_turns.back().message.role == "assistant")
        m_turns.pop_back();
    if (m_turns.empty())
        return {};
    const QString text = QString::fromStdString(m_turns.back().message.content);
    m_turns.pop_back();
    // The meter, the notice and the statistics described the reply just removed.
    setTurns(m_turns);
    return text;
}

void ChatSessionWidget::stop()
{
    m_controller->stop();
}

void ChatSessionWidget::clearConversation()
{
    if (isBusy())
        return;
    setTurns({});
}

void ChatSessionWidget::showReplyFacts()
{
    // The statistics of the last reply still in the conversation, and the model's own notice.
    const awq::chat::ReplyStats *last = nullptr;
    for (auto it = m_turns.rbegin(); it != m_turns.rend() && !last; ++it)
        if (it->stats)
            last = &*it->stats;
    m_statsLabel->setText(last ? tr("Last reply: %1").arg(ChatTranscriptView::statsText(*last)) : QString());
    const QString notice = hasModel() ? m_controller->model().notice : QString();
    m_noticeLabel->setText(notice);
    m_noticeLabel->setVisible(!notice.isEmpty());
}

void ChatSessionWidget::setTurns(const std::vector<awq::chat::ConversationTurn> &turns)
{
    m_turns = turns;
    m_transcript->setTurns(m_turns);
    measureContext();
    showReplyFacts();
}

void ChatSessionWidget::measureContext()
{
    qint64 used = 0;
    for (auto it = m_turns.rbegin(); it != m_turns.rend(); ++it)
        if (it->stats) {
            used = it->stats->promptTokens + it->stats->generatedTokens;
            break;
        }
    updateContextMeter(used);
    // Those statistics may be another model's (or absent): the loaded model counts.
    if (!m_turns.empty())
        m_controller->countTokens(messagesFor(m_systemPrompt, m_turns));
}

void ChatSessionWidget::flushPending()
{
    m_flushTimer.stop();
    if (m_pending.isEmpty())
        return;
    m_transcript->appendReplyText(m_pending);
    m_pending.clear();
}

void ChatSessionWidget::handleReplyFinished(const ChatReplyOutcome &outcome)
{
    flushPending();
    awq::chat::ReplyStats stats = outcome.stats;
    if (outcome.stopped)
        stats.stopReason = "stopped by you";
    QString text = outcome.text;
    while (!text.isEmpty() && text.front().isSpace())
        text.remove(0, 1);
    m_turns.push_back({{"assistant", text.toStdString()}, stats});
    m_transcript->setTurns(m_turns);
    m_reply.clear();
    m_statsLabel->setText(tr("Last reply: %1").arg(ChatTranscriptView::statsText(stats)));
    QStringList notices;
    if (!m_controller->model().notice.isEmpty())
        notices << m_controller->model().notice;
    if (!outcome.notice.isEmpty())
        notices << outcome.notice;
    if (outcome.droppedMessages > 0)
        notices << tr("The conversation is longer than the model's context: the oldest %n message(s) were left out "
                      "of the prompt.",
                      nullptr, int(outcome.droppedMessages));
    m_noticeLabel->setText(notices.join(QLatin1Char('\n')));
    m_noticeLabel->setVisible(!notices.isEmpty());
    updateContextMeter(stats.promptTokens + stats.generatedTokens);
    updateButtons();
    Q_EMIT replyFinished(outcome);
}

void ChatSessionWidget::handleReplyFailed(const QString &message)
{
    flushPending();
    m_reply.clear();
    // The user's message stays; the failed reply is not added.
    m_transcript->setTurns(m_turns);
    m_statsLabel->setText(tr("The reply failed: %1").arg(message));
    updateButtons();
    Q_EMIT replyFailed(message);
}

void ChatSessionWidget::updateContextMeter(qint64 usedTokens)
{
    m_usedTokens = usedTokens;
    if (!hasModel()) {
        m_contextMeter->setRange(0, 1);
        m_contextMeter->setValue(0);
        m_contextMeter->setFormat(tr("Context: no model"));
        return;
    }
    const qint64 context = contextLength();
    m_contextMeter->setRange(0, int(context));
    m_contextMeter->setValue(int(std::min(usedTokens, context)));
    // A conversation counted whole (opened, restored) may be longer than the context.
    const bool full = usedTokens > context;
    m_contextMeter->setFormat(full ? tr("Context: full (%1 / %2 tokens)").arg(usedTokens).arg(context)
                                   : tr("Context: %1 / %2 tokens").arg(usedTokens).arg(context));
    m_contextMeter->setToolTip(full ? tr("The conversation is longer than the context: the next reply leaves its "
                                         "oldest messages out of the prompt.")
                                    : QString());
}

void ChatSessionWidget::updateButtons()
{
    const bool loading = m_controller->isLoading();
    const bool generating = m_controller->isGenerating();
    m_loadButton->setText(loading ? tr("Cancel") : tr("Load"));
    m_loadButton->setEnabled(!generating);
    m_browseButton->setEnabled(!loading && !generating);
    m_deviceCombo->setEnabled(!loading && !generating);
    m_contextSpin->setEnabled(!generating);
    m_folderEdit->setEnabled(!loading && !generating);
}

void ChatSessionWidget::setCompact(bool compact)
{
    m_statsLabel->setVisible(!compact);
}
