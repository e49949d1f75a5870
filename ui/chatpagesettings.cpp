// ChatPage's sampling settings: reading and writing the side panel's fields, fitting them to
// a loaded model (its context and generation_config.json), and keeping them across restarts.
#include "chatpage.h"

#include <algorithm>
#include <cmath>

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStringList>

#include "awq/chat/generation_defaults.h"
#include "awq/core/error.h"
#include "appsettings.h"
#include "chatsessionwidget.h"
#include "chatworker.h"
#include "quantizepagehelpers.h"

awq::chat::ChatSettings ChatPage::settings() const
{
    awq::chat::ChatSettings s;
    s.temperature = m_temperatureSpin->value();
    s.topP = m_topPSpin->value();
    s.topK = m_topKSpin->value();
    s.minP = m_minPSpin->value();
    s.repetitionPenalty = m_repetitionSpin->value();
    s.maxNewTokens = m_maxTokensSpin->value();
    s.seed = static_cast<uint64_t>(m_seedSpin->value());
    s.randomSeed = m_randomSeedCheck->isChecked();
    s.presencePenalty = m_hiddenSettings.presencePenalty;
    s.frequencyPenalty = m_hiddenSettings.frequencyPenalty;
    s.stopStrings = m_hiddenSettings.stopStrings;
    s.contextLength = m_sessions[0]->contextLength(); // chosen per model on its session; recorded with the chat
    return s;
}

void ChatPage::setSettings(const awq::chat::ChatSettings &s)
{
    m_temperatureSpin->setValue(s.temperature);
    m_topPSpin->setValue(s.topP);
    m_topKSpin->setValue(int(s.topK));
    m_minPSpin->setValue(s.minP);
    m_repetitionSpin->setValue(s.repetitionPenalty);
    m_maxTokensSpin->setValue(int(s.maxNewTokens));
    m_seedSpin->setValue(int(std::min<uint64_t>(s.seed, 999999999)));
    m_randomSeedCheck->setChecked(s.randomSeed);
    m_seedSpin->setEnabled(!s.randomSeed);
    // Not shown on the page, but kept: a conversation opened with them replies with them.
    m_hiddenSettings.presencePenalty = s.presencePenalty;
    m_hiddenSettings.frequencyPenalty = s.frequencyPenalty;
    m_hiddenSettings.stopStrings = s.stopStrings;
}

QString ChatPage::fitMaxTokensToContext(qint64 context)
{
    // A reply may not take the whole context: the prompt needs room too.
    m_maxTokensSpin->setMaximum(int(std::max<qint64>(1, context)));
    if (context > 1 && m_maxTokensSpin->value() > context / 2) {
        m_maxTokensSpin->setValue(int(context / 2));
        return tr("Max new tokens set to %1, half of the %2-token context.").arg(context / 2).arg(context);
    }
    return {};
}

void ChatPage::adaptToModel(const ChatModelSummary &model)
{
    QStringList notes;
    if (const QString note = fitMaxTokensToContext(m_sessions[0]->contextLength()); !note.isEmpty())
        notes << note;
    m_modelDefaults.reset();
    try {
        m_modelDefaults = awq::chat::readGenerationDefaults(quantui::toPath(model.folder));
    } catch (const std::exception &e) {
        notes << tr("Its generation_config.json was not used: %1").arg(quantui::userMessage(e));
    }
    if (m_modelDefaults && m_modelDefaults->empty())
        m_modelDefaults.reset();
    m_modelDefaultsButton->setEnabled(m_modelDefaults.has_value());
    if (m_modelDefaults)
        notes << tr("The model recommends %1 (Model Defaults applies them).")
                     .arg(QString::fromStdString(m_modelDefaults->describe()));
    m_statusLabel->setText(notes.join(QLatin1Char(' ')));
}

void ChatPage::applyModelDefaults()
{
    if (!m_modelDefaults)
        return;
    awq::chat::ChatSettings s = awq::chat::applyGenerationDefaults(settings(), *m_modelDefaults);
    if (m_maxTokensSpin->maximum() > 1)
        s.maxNewTokens = std::min<int64_t>(s.maxNewTokens, m_maxTokensSpin->maximum());
    setSettings(s);
    m_statusLabel->setText(tr("Sampling set to the model's recommendations: %1.")
                               .arg(QString::fromStdString(m_modelDefaults->describe())));
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
    settings.setValue(QStringLiteral("chat/randomSeed"), s.randomSeed);
    settings.setValue(QStringLiteral("chat/minP"), s.minP);
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
    // Replies of up to 1024 tokens (a page of text or code), never more than half the context
    // chosen for the model (fitMaxTokensToContext).
    s.maxNewTokens = settings.value(QStringLiteral("chat/maxNewTokens"), qint64(kDefaultMaxNewTokens)).toLongLong();
    s.seed = settings.value(QStringLiteral("chat/seed"), quint64(defaults.seed)).toULongLong();
    // The chat window draws a new seed per reply unless the user fixed one (issue 23).
    s.randomSeed = settings.value(QStringLiteral("chat/randomSeed"), true).toBool();
    s.minP = number("chat/minP", defaults.minP);
    setSettings(s);
    m_systemEdit->setPlainText(settings.value(QStringLiteral("chat/systemPrompt")).toString());
}
