#include "modelpage.h"

#include <QDir>
#include <QFileInfo>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QStackedWidget>
#include <QVBoxLayout>

#include "modelfactswidget.h"
#include "theme.h"

namespace {

QLabel *makeHeading(const QString &text)
{
    auto *label = new QLabel(text);
    QFont font = label->font();
    font.setPointSizeF(font.pointSizeF() * 1.4);
    font.setBold(true);
    label->setFont(font);
    label->setAlignment(Qt::AlignCenter);
    label->setWordWrap(true);
    return label;
}

QLabel *makeText(const QString &text)
{
    auto *label = new QLabel(text);
    label->setAlignment(Qt::AlignCenter);
    label->setWordWrap(true);
    return label;
}

} // namespace

ModelPage::ModelPage(QWidget *parent) : QWidget(parent)
{
    m_stack = new QStackedWidget(this);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_stack);

    // No model yet: say what to do.
    {
        auto *box = new QWidget;
        auto *v = new QVBoxLayout(box);
        v->setSpacing(12);
        v->addWidget(makeHeading(tr("Open a model folder")));
        v->addWidget(makeText(tr("Pick a Hugging Face style folder with config.json, *.safetensors weights and "
                                 "tokenizer.model\n(File > Open Model Folder…, Ctrl+O, or drop the folder here).\n"
                                 "Only the file headers are read: nothing is loaded into memory yet.")));
        auto *button = new QPushButton(tr("Open Model Folder…"));
        button->setObjectName(QStringLiteral("openModelButton"));
        connect(button, &QPushButton::clicked, this, &ModelPage::openRequested);
        v->addWidget(button, 0, Qt::AlignCenter);
        m_emptyPage = makeCentered(box);
    }
    // Inspecting: a busy indicator.
    {
        auto *box = new QWidget;
        auto *v = new QVBoxLayout(box);
        v->setSpacing(12);
        m_loadingLabel = makeText(QString());
        m_loadingLabel->setTextFormat(Qt::PlainText);
        auto *busy = new QProgressBar;
        busy->setObjectName(QStringLiteral("busyIndicator"));
        busy->setRange(0, 0); // indeterminate
        busy->setTextVisible(false);
        busy->setFixedWidth(280);
        v->addWidget(m_loadingLabel);
        v->addWidget(busy, 0, Qt::AlignCenter);
        m_loadingPage = makeCentered(box);
    }
    // Facts, scrollable.
    {
        m_facts = new ModelFactsWidget;
        m_facts->setObjectName(QStringLiteral("modelFacts"));
        auto *inner = new QWidget;
        auto *v = new QVBoxLayout(inner);
        v->setContentsMargins(20, 16, 20, 16);
        v->addWidget(m_facts);
        auto *scroll = new QScrollArea;
        scroll->setWidgetResizable(true);
        scroll->setFrameShape(QFrame::NoFrame);
        scroll->setWidget(inner);
        m_factsPage = scroll;
    }
    // Could not open: say why, offer another try.
    {
        auto *box = new QWidget;
        auto *v = new QVBoxLayout(box);
        v->setSpacing(12);
        m_errorTitle = makeHeading(QString());
        m_errorTitle->setTextFormat(Qt::PlainText);
        m_errorMessage = makeText(QString());
        m_errorMessage->setObjectName(QStringLiteral("modelError"));
        m_errorMessage->setTextFormat(Qt::PlainText);
        Theme::setTone(m_errorMessage, Theme::Tone::Error);
        m_errorMessage->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
        auto *button = new QPushButton(tr("Open Another Folder…"));
        connect(button, &QPushButton::clicked, this, &ModelPage::openRequested);
        v->addWidget(m_errorTitle);
        v->addWidget(m_errorMessage);
        v->addWidget(button, 0, Qt::AlignCenter);
        m_errorPage = makeCentered(box);
    }
    for (QWidget *page : {m_emptyPage, m_loadingPage, m_factsPage, m_errorPage})
        m_stack->addWidget(page);
    showEmpty();
}

QWidget *ModelPage::makeCentered(QWidget *content)
{
    // Added without an alignment flag so that the layout gives the word-wrapped labels
    // their height for the full width (an aligned item would get its size hint only).
    auto *page = new QWidget;
    auto *v = new QVBoxLayout(page);
    v->setContentsMargins(48, 32, 48, 32);
    v->addStretch(2);
    v->addWidget(content);
    v->addStretch(3);
    return page;
}

void ModelPage::showEmpty()
{
    m_state = State::Empty;
    m_facts->clear();
    m_stack->setCurrentWidget(m_emptyPage);
}

void ModelPage::showLoading(const QString &folder)
{
    m_state = State::Loading;
    m_loadingLabel->setText(tr("Inspecting %1…").arg(QDir::toNativeSeparators(folder)));
    m_stack->setCurrentWidget(m_loadingPage);
}

void ModelPage::showModel(const awq::ModelInfo &info)
{
    m_state = State::Loaded;
    m_facts->setModelInfo(info);
    m_stack->setCurrentWidget(m_factsPage);
}

void ModelPage::showError(const QString &folder, const QString &message)
{
    m_state = State::Failed;
    m_facts->clear();
    m_errorTitle->setText(tr("Could not open “%1”").arg(QFileInfo(folder).fileName()));
    m_errorMessage->setText(message);
    m_stack->setCurrentWidget(m_errorPage);
}

QString ModelPage::text() const
{
    switch (m_state) {
    case State::Empty:
        return tr("Open a model folder");
    case State::Loading:
        return m_loadingLabel->text();
    case State::Loaded:
        return m_facts->plainText();
    case State::Failed:
        return m_errorTitle->text() + QLatin1Char('\n') + m_errorMessage->text();
    }
    return {};
}
