#include "modelfactswidget.h"
#include "memoryfit.h"
#include "theme.h"

#include <QAction>
#include <QApplication>
#include <QClipboard>
#include <QDir>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLocale>
#include <QRegularExpression>
#include <QVBoxLayout>

namespace {

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

// Thousands separators even under the C locale (which omits them).
QString grouped(qint64 n)
{
    QLocale locale;
    if (locale.language() == QLocale::C)
        locale = QLocale(QLocale::English, QLocale::UnitedStates);
    return locale.toString(n);
}

QString number(double value)
{
    return QString::number(value, 'g', 10);
}

// "1 tensor", "201 tensors" (no translations are loaded, so %n plurals are done here).
QString counted(qint64 n, const QString &singular, const QString &plural)
{
    return QStringLiteral("%1 %2").arg(grouped(n), n == 1 ? singular : plural);
}

QString yesNo(bool value)
{
    return value ? ModelFactsWidget::tr("yes") : ModelFactsWidget::tr("no");
}

QString headsText(const awq::ModelConfig &c)
{
    if (c.numKvHeads > 0 && c.numKvHeads < c.numHeads)
        return ModelFactsWidget::tr("%1 query, %2 KV (grouped-query attention, %3 per KV head)")
            .arg(c.numHeads)
            .arg(c.numKvHeads)
            .arg(c.numHeads / c.numKvHeads);
    return ModelFactsWidget::tr("%1 query, %2 KV (multi-head attention)").arg(c.numHeads).arg(c.numKvHeads);
}

QString ropeText(const awq::ModelConfig &c)
{
    QString text = ModelFactsWidget::tr("θ = %1").arg(number(c.ropeTheta));
    if (c.ropeLocalTheta > 0) // gemma3: the sliding layers' base, unscaled; scaling applies to the others
        text = ModelFactsWidget::tr("sliding layers θ = %1 unscaled; others θ = %2")
                   .arg(number(c.ropeLocalTheta), number(c.ropeTheta));
    const awq::RopeScaling &s = c.ropeScaling;
    switch (s.type) {
    case awq::RopeScaling::Type::None:
        return text + ModelFactsWidget::tr(", no scaling");
    case awq::RopeScaling::Type::Linear:
        return text + ModelFactsWidget::tr(", linear scaling ×%1").arg(number(s.factor));
    case awq::RopeScaling::Type::Llama3:
        return text
               + ModelFactsWidget::tr(", llama3 scaling ×%1 (low %2, high %3, original %4 positions)")
                     .arg(number(s.factor), number(s.lowFreqFactor), number(s.highFreqFactor),
                          grouped(s.originalMaxPositionEmbeddings));
    }
    return text;
}

QString dtypesText(const awq::ModelInfo &info)
{
    QStringList parts;
    for (const auto &[dtype, count] : info.tensorsPerDtype)
        parts << QStringLiteral("%1 (%2)").arg(
            qs(dtype), counted(count, ModelFactsWidget::tr("tensor"), ModelFactsWidget::tr("tensors")));
    return parts.isEmpty() ? ModelFactsWidget::tr("none found") : parts.join(QStringLiteral(", "));
}

QString tokenizerText(const awq::ModelInfo &info)
{
    QStringList files;
    if (info.hasTokenizerModel)
        files << QStringLiteral("tokenizer.model");
    if (info.hasTokenizerJson)
        files << QStringLiteral("tokenizer.json");
    return files.isEmpty() ? ModelFactsWidget::tr("missing") : files.join(QStringLiteral(", "));
}

} // namespace

ModelFactsWidget::ModelFactsWidget(QWidget *parent) : QWidget(parent)
{
    m_layout = new QVBoxLayout(this);
    m_layout->setContentsMargins(0, 0, 0, 0);

    auto *copy = new QAction(tr("Copy All Facts"), this);
    connect(copy, &QAction::triggered, this, [this] { QApplication::clipboard()->setText(plainText()); });
    addAction(copy);
    setContextMenuPolicy(Qt::ActionsContextMenu);
}

void ModelFactsWidget::clear()
{
    m_rows.clear();
    m_problems.clear();
    delete m_content;
    m_content = nullptr;
}

QLabel *ModelFactsWidget::addRow(QFormLayout *form, const QString &label, const QString &value)
{
    auto *valueLabel = new QLabel(value);
    valueLabel->setTextFormat(Qt::PlainText);
    valueLabel->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    valueLabel->setWordWrap(true);
    form->addRow(label + QLatin1Char(':'), valueLabel);
    m_rows.append({label, value});
    return valueLabel;
}

QFormLayout *ModelFactsWidget::addGroup(QLayout *parentLayout, const QString &title)
{
    auto *box = new QGroupBox(title);
    auto *form = new QFormLayout(box);
    form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
    form->setLabelAlignment(Qt::AlignLeft);
    form->setHorizontalSpacing(16);
    form->setVerticalSpacing(6);
    parentLayout->addWidget(box);
    return form;
}

void ModelFactsWidget::setModelInfo(const awq::ModelInfo &info)
{
    clear();
    const awq::ModelConfig &c = info.config;
    const QString folder = QDir::toNativeSeparators(QString::fromStdString(info.folder.string()));
    const QString architecture = c.architecture.empty() ? qs(c.modelType) : qs(c.architecture);

    m_content = new QWidget(this);
    auto *layout = new QVBoxLayout(m_content);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(12);

    // Header: name, one-line summary, verdict.
    auto *title = new QLabel(qs(info.folder.filename().string()));
    QFont titleFont = title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.6);
    titleFont.setBold(true);
    title->setFont(titleFont);
    title->setTextFormat(Qt::PlainText);
    title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *path = new QLabel(folder);
    path->setTextFormat(Qt::PlainText);
    path->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
    path->setForegroundRole(QPalette::PlaceholderText);
    m_rows.append({tr("Folder"), folder});
    auto *summary = new QLabel(tr("%1  ·  %2 parameters  ·  %3")
                                   .arg(architecture, qs(awq::formatCount(info.parameterCount)),
                                        qs(info.precisionSummary())));
    summary->setTextFormat(Qt::PlainText);
    summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *verdict = new QLabel;
    verdict->setWordWrap(true);
    if (info.loadable()) {
        verdict->setText(tr("✓ Loadable: a supported config.json, every expected tensor with the right shape, "
                            "and a tokenizer."));
        Theme::setTone(verdict, Theme::Tone::Ok);
    } else {
        verdict->setText(tr("✗ This folder cannot be loaded: %1, listed below.")
                             .arg(counted(static_cast<qint64>(info.problems.size()), tr("problem"), tr("problems"))));
        Theme::setTone(verdict, Theme::Tone::Error);
        QFont bold = verdict->font();
        bold.setBold(true);
        verdict->setFont(bold);
    }
    auto *header = new QVBoxLayout;
    header->setSpacing(4);
    header->addWidget(title);
    header->addWidget(path);
    header->addSpacing(6);
    header->addWidget(summary);
    header->addWidget(verdict);
    if (info.loadable()) {
        // Before loading it anywhere: does it fit, on the CPU and on each GPU?
        auto *fit = new QLabel;
        fit->setObjectName(QStringLiteral("modelFitLabel"));
        fit->setTextFormat(Qt::RichText);
        Theme::setTonedText(fit, tr("Memory to run it: %1").arg(memoryfit::describe(memoryfit::estimate(c))));
        fit->setWordWrap(true);
        header->addWidget(fit);
        m_rows.append({tr("Memory"), QString(fit->text()).remove(QRegularExpression(QStringLiteral("<[^>]*>")))});
    }
    layout->addLayout(header);

    auto *groups = new QHBoxLayout;
    groups->setSpacing(12);
    layout->addLayout(groups);

    QFormLayout *arch = addGroup(groups, tr("Architecture"));
    addRow(arch, tr("Architecture"), tr("%1 (model_type %2)").arg(architecture, qs(c.modelType)));
    addRow(arch, tr("Parameters"),
           tr("%1 (%2)").arg(qs(awq::formatCount(info.parameterCount)), grouped(info.parameterCount)));
    addRow(arch, tr("Layers"), QString::number(c.numLayers));
    addRow(arch, tr("Hidden size"), grouped(c.hiddenSize));
    addRow(arch, tr("Intermediate size"), grouped(c.intermediateSize));
    if (c.moe.numExperts > 0)
        addRow(arch, tr("Experts"),
               tr("%1, top %2 per token, each %3 wide%4")
                   .arg(c.moe.numExperts)
                   .arg(c.moe.expertsPerToken)
                   .arg(grouped(c.moe.expertIntermediateSize))
                   .arg(c.moe.sharedIntermediateSize > 0
                            ? tr(", plus a shared expert %1 wide").arg(grouped(c.moe.sharedIntermediateSize))
                            : QString()));
    addRow(arch, tr("Attention heads"), headsText(c));
    addRow(arch, tr("Head dim"), QString::number(c.headDim));
    addRow(arch, tr("Vocabulary"), tr("%1 tokens").arg(grouped(c.vocabSize)));
    addRow(arch, tr("Max positions"), grouped(c.maxPositionEmbeddings));
    addRow(arch, tr("RoPE"), ropeText(c));
    addRow(arch, tr("Tied embeddings"), yesNo(c.tieWordEmbeddings));
    int sliding = 0;
    for (int64_t i = 0; i < c.numLayers; ++i)
        sliding += c.attentionKind(i) == awq::AttentionKind::Sliding ? 1 : 0;
    if (c.slidingWindow > 0 && sliding > 0)
        addRow(arch, tr("Sliding window"),
               tr("%1 positions on %2 of %3 layers").arg(grouped(c.slidingWindow)).arg(sliding).arg(c.numLayers));
    else if (c.slidingWindow > 0)
        addRow(arch, tr("Sliding window"), tr("%1 (informational; not applied)").arg(grouped(c.slidingWindow)));

    QFormLayout *files = addGroup(groups, tr("Weights and files"));
    addRow(files, tr("Precision"), qs(info.precisionSummary()));
    addRow(files, tr("Weight dtypes"), dtypesText(info));
    addRow(files, tr("config torch_dtype"), qs(c.torchDtype));
    addRow(files, tr("Weights"),
           tr("%1 in %2").arg(qs(awq::formatBytes(info.weightBytes)),
                                counted(info.tensorCount, tr("tensor"), tr("tensors"))));
    addRow(files, tr("Size on disk"), qs(awq::formatBytes(info.sizeOnDisk)));
    addRow(files, tr("Safetensors files"),
           info.shardCount > 1 ? tr("%1 shards").arg(info.shardCount) : QString::number(info.shardCount));
    addRow(files, tr("Tokenizer"), tokenizerText(info));
    addRow(files, tr("Chat template"), yesNo(info.hasChatTemplate));
    if (info.quantized() && !c.quantization.modulesToNotConvert.empty()) {
        QStringList modules;
        for (const auto &m : c.quantization.modulesToNotConvert)
            modules << qs(m);
        addRow(files, tr("Not quantized"), modules.join(QStringLiteral(", ")));
    }

    addProblems(info);
    layout->addStretch(1);
    m_layout->addWidget(m_content);
}

void ModelFactsWidget::addProblems(const awq::ModelInfo &info)
{
    // What the engine leaves aside (a multimodal folder's vision tower): not a problem.
    for (const auto &note : info.config.notes) {
        auto *label = new QLabel(tr("Note: %1").arg(qs(note)));
        label->setObjectName(QStringLiteral("note"));
        label->setTextFormat(Qt::PlainText);
        label->setWordWrap(true);
        label->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
        m_content->layout()->addWidget(label);
        m_rows.append({tr("Note"), qs(note)});
    }
    if (info.problems.empty())
        return;
    auto *box = new QGroupBox(tr("Problems (%1)").arg(info.problems.size()));
    box->setObjectName(QStringLiteral("problems"));
    auto *list = new QVBoxLayout(box);
    list->setSpacing(4);
    for (const auto &problem : info.problems) {
        auto *label = new QLabel(QStringLiteral("•  ") + qs(problem));
        label->setTextFormat(Qt::PlainText);
        label->setWordWrap(true);
        label->setTextInteractionFlags(Qt::TextSelectableByMouse | Qt::TextSelectableByKeyboard);
        Theme::setTone(label, Theme::Tone::Error);
        list->addWidget(label);
        m_problems << qs(problem);
    }
    m_content->layout()->addWidget(box);
}

QString ModelFactsWidget::plainText() const
{
    QStringList lines;
    for (const auto &[label, value] : m_rows)
        lines << label + QStringLiteral(": ") + value;
    for (const QString &problem : m_problems)
        lines << tr("Problem: %1").arg(problem);
    return lines.join(QLatin1Char('\n'));
}
