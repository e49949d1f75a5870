#include "quantizehomepage.h"

#include <QDir>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPushButton>
#include <QVBoxLayout>

QuantizeHomePage::QuantizeHomePage(QWidget *parent) : QWidget(parent)
{
    auto *heading = new QLabel(tr("Quantize a model to 4 bits with AWQ"));
    QFont big = heading->font();
    big.setPointSizeF(big.pointSizeF() * 1.4);
    big.setBold(true);
    heading->setFont(big);
    auto *about = new QLabel(
        tr("The wizard takes a full-precision Llama-family folder through five steps: <b>Model</b> (checked at "
           "once, with the memory it needs), <b>Calibration</b> (the built-in text, a text or JSONL file, or a "
           "folder), <b>Configuration</b> (AWQ or round-to-nearest, bits, group size, zero point, GEMM or GEMV "
           "packing), <b>Output</b>, and <b>Run</b>, with live progress, per-layer error and memory. The result "
           "is a <code>quant_method: \"awq\"</code> checkpoint that AutoAWQ, transformers and vLLM load."));
    about->setWordWrap(true);
    about->setTextFormat(Qt::RichText);
    m_modelLabel = new QLabel;
    m_modelLabel->setObjectName(QStringLiteral("quantizeHomeModel"));
    m_modelLabel->setWordWrap(true);
    auto *startButton = new QPushButton(tr("Start the Quantization Wizard…"));
    startButton->setObjectName(QStringLiteral("quantizeHomeStart"));
    startButton->setDefault(true);
    auto *startRow = new QHBoxLayout;
    startRow->addWidget(startButton);
    startRow->addStretch(1);

    auto *resultsHeading = new QLabel(tr("<b>Finished runs</b>"));
    m_results = new QListWidget;
    m_results->setObjectName(QStringLiteral("quantizeResults"));
    m_results->setWordWrap(true);
    m_results->setAlternatingRowColors(true);
    m_openButton = new QPushButton(tr("Show in Library"));
    m_chatButton = new QPushButton(tr("Chat"));
    m_benchmarkButton = new QPushButton(tr("Benchmark"));
    auto *resultButtons = new QHBoxLayout;
    resultButtons->addWidget(m_openButton);
    resultButtons->addWidget(m_chatButton);
    resultButtons->addWidget(m_benchmarkButton);
    resultButtons->addStretch(1);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(24, 18, 24, 18);
    layout->setSpacing(10);
    layout->addWidget(heading);
    layout->addWidget(about);
    layout->addWidget(m_modelLabel);
    layout->addLayout(startRow);
    layout->addSpacing(12);
    layout->addWidget(resultsHeading);
    layout->addWidget(m_results, 1);
    layout->addLayout(resultButtons);

    connect(startButton, &QPushButton::clicked, this, &QuantizeHomePage::wizardRequested);
    connect(m_results, &QListWidget::currentRowChanged, this, &QuantizeHomePage::updateButtons);
    connect(m_openButton, &QPushButton::clicked, this, [this] { Q_EMIT openRequested(selectedOutput()); });
    connect(m_chatButton, &QPushButton::clicked, this, [this] { Q_EMIT chatRequested(selectedOutput()); });
    connect(m_benchmarkButton, &QPushButton::clicked, this, [this] { Q_EMIT benchmarkRequested(selectedOutput()); });
    setCurrentModel(QString(), QString());
    setResults({});
}

void QuantizeHomePage::setCurrentModel(const QString &folder, const QString &facts)
{
    if (folder.isEmpty())
        m_modelLabel->setText(tr("No model is open: the wizard will ask for a folder."));
    else
        m_modelLabel->setText(tr("The wizard starts on <b>%1</b> (%2).")
                                  .arg(QFileInfo(folder).fileName().toHtmlEscaped(), facts.toHtmlEscaped()));
}

void QuantizeHomePage::setResults(const QVariantList &results)
{
    m_results->clear();
    for (const QVariant &value : results) {
        const QVariantMap run = value.toMap();
        const QString output = run.value(QStringLiteral("output")).toString();
        QString text = QStringLiteral("%1 — %2\n%3")
                           .arg(QFileInfo(output).fileName(), run.value(QStringLiteral("date")).toString(),
                                run.value(QStringLiteral("summary")).toString());
        if (!QFileInfo(output).isDir())
            text += tr("\n(the folder is no longer there)");
        auto *item = new QListWidgetItem(text, m_results);
        item->setData(Qt::UserRole, output);
        item->setToolTip(QDir::toNativeSeparators(output));
    }
    if (m_results->count() == 0) {
        auto *item = new QListWidgetItem(tr("No runs yet."), m_results);
        item->setFlags(Qt::NoItemFlags);
    } else {
        m_results->setCurrentRow(0);
    }
    updateButtons();
}

QString QuantizeHomePage::selectedOutput() const
{
    const QListWidgetItem *item = m_results->currentItem();
    return item ? item->data(Qt::UserRole).toString() : QString();
}

void QuantizeHomePage::updateButtons()
{
    const QString output = selectedOutput();
    const bool usable = !output.isEmpty() && QFileInfo(output).isDir();
    m_openButton->setEnabled(usable);
    m_chatButton->setEnabled(usable);
    m_benchmarkButton->setEnabled(usable);
}
