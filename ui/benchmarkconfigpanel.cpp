#include "benchmarkconfigpanel.h"

#include <algorithm>
#include <exception>

#include <QButtonGroup>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QRadioButton>
#include <QRegularExpressionValidator>
#include <QSpinBox>
#include <QStandardItemModel>
#include <QThread>
#include <QVBoxLayout>

#include "quantizepagehelpers.h"
#include "awq/core/error.h"
#include "awq/core/memory.h"
#include "awq/model/model_info.h"
#include "resourcepaths.h"
#include "theme.h"

using awq::bench::Variant;

namespace {

const char *kPerplexityTextPath = "text/brown-heldout.txt";

QString bytesText(uint64_t bytes)
{
    return QString::fromStdString(awq::formatBytes(bytes));
}

// "1, 8,32" -> {1, 8, 32}; nothing, with *error naming the field, for anything else.
std::optional<std::vector<int64_t>> parseIntList(const QString &text, const QString &what, qint64 max,
                                                 QString *error)
{
    std::vector<int64_t> values;
    const QStringList items = text.split(QLatin1Char(','), Qt::KeepEmptyParts);
    for (const QString &raw : items) {
        const QString item = raw.trimmed();
        bool ok = false;
        const qint64 v = item.toLongLong(&ok);
        if (!ok || v < 1 || v > max) {
            *error = item.isEmpty()
                         ? QObject::tr("%1: give a comma-separated list of whole numbers, e.g. 1,8.").arg(what)
                         : QObject::tr("%1: '%2' is not a whole number from 1 to %3.").arg(what, item).arg(max);
            return std::nullopt;
        }
        if (std::find(values.begin(), values.end(), v) == values.end())
            values.push_back(v);
    }
    return values;
}

QSpinBox *makeSpin(const char *name, int min, int max, int value, QWidget *parent)
{
    auto *spin = new QSpinBox(parent);
    spin->setObjectName(QString::fromLatin1(name));
    spin->setRange(min, max);
    spin->setValue(value);
    return spin;
}

} // namespace

BenchmarkConfigPanel::BenchmarkConfigPanel(QWidget *parent) : QWidget(parent)
{
    m_perplexityText = ResourcePaths::findData(QString::fromLatin1(kPerplexityTextPath));

    m_estimateLabel = new QLabel(this);
    m_estimateLabel->setObjectName(QStringLiteral("memoryEstimateLabel"));
    m_estimateLabel->setWordWrap(true);
    m_estimateLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_statusLabel = new QLabel(this);
    m_statusLabel->setObjectName(QStringLiteral("configStatusLabel"));
    m_statusLabel->setWordWrap(true);
    m_statusLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(buildModelBox());
    layout->addWidget(buildBuildsBox());
    layout->addWidget(buildWorkloadBox());
    layout->addWidget(m_estimateLabel);
    layout->addWidget(m_statusLabel);

    // Every edit re-checks the plan.
    for (QLineEdit *edit : {m_folderEdit, m_batchEdit, m_prefillEdit})
        connect(edit, &QLineEdit::textChanged, this, &BenchmarkConfigPanel::revalidate);
    for (QAbstractButton *button : std::initializer_list<QAbstractButton *>{
             m_folderRadio, m_syntheticRadio, m_fp32Check, m_gemmCheck, m_gemvCheck, m_perplexityCheck})
        connect(button, &QAbstractButton::toggled, this, &BenchmarkConfigPanel::revalidate);
    for (QComboBox *combo : {m_shapeCombo, m_groupSizeCombo})
        connect(combo, &QComboBox::currentIndexChanged, this, &BenchmarkConfigPanel::revalidate);
    for (QSpinBox *spin : {m_decodeSpin, m_warmupSpin, m_repeatsSpin, m_threadsSpin})
        connect(spin, &QSpinBox::valueChanged, this, &BenchmarkConfigPanel::revalidate);
    connect(m_browseButton, &QPushButton::clicked, this, &BenchmarkConfigPanel::handleBrowse);
    // The note about lengths left out describes the list as setModelFolder() left it.
    for (QLineEdit *edit : {m_folderEdit, m_prefillEdit})
        connect(edit, &QLineEdit::textEdited, this, [this] { m_fitNote.clear(); });

    const QString demo = ResourcePaths::demoModelFolder();
    if (!demo.isEmpty())
        setModelFolder(demo);
    else
        m_syntheticRadio->setChecked(true);
    revalidate();
}

QWidget *BenchmarkConfigPanel::buildModelBox()
{
    auto *box = new QGroupBox(tr("Model"), this);
    m_folderRadio = new QRadioButton(tr("Model folder"), box);
    m_folderRadio->setObjectName(QStringLiteral("sourceFolderRadio"));
    m_folderRadio->setToolTip(tr("A full-precision folder gets round-to-nearest int4 builds at load (for speed "
                                 "only); an AWQ folder runs as stored."));
    m_syntheticRadio = new QRadioButton(tr("Synthetic (random weights)"), box);
    m_syntheticRadio->setObjectName(QStringLiteral("sourceSyntheticRadio"));
    m_syntheticRadio->setToolTip(tr("A model of a well-known shape built in memory with random weights: speed "
                                    "does not depend on the weight values. No download needed."));
    auto *group = new QButtonGroup(box);
    group->addButton(m_folderRadio);
    group->addButton(m_syntheticRadio);

    m_folderEdit = new QLineEdit(box);
    m_folderEdit->setObjectName(QStringLiteral("modelFolderEdit"));
    m_folderEdit->setPlaceholderText(tr("Folder with config.json and *.safetensors"));
    m_browseButton = new QPushButton(tr("Browse…"), box);
    m_browseButton->setObjectName(QStringLiteral("modelBrowseButton"));
    m_shapeCombo = new QComboBox(box);
    m_shapeCombo->setObjectName(QStringLiteral("syntheticShapeCombo"));
    for (const std::string &name : awq::bench::syntheticShapeNames())
        m_shapeCombo->addItem(QString::fromStdString(name));
    m_shapeCombo->setCurrentText(QStringLiteral("tinyllama-1.1b"));

    auto *folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folderEdit, 1);
    folderRow->addWidget(m_browseButton);
    auto *syntheticRow = new QHBoxLayout;
    syntheticRow->addWidget(m_syntheticRadio);
    syntheticRow->addWidget(m_shapeCombo, 1);
    auto *layout = new QVBoxLayout(box);
    layout->addWidget(m_folderRadio);
    layout->addLayout(folderRow);
    layout->addLayout(syntheticRow);
    return box;
}

QWidget *BenchmarkConfigPanel::buildBuildsBox()
{
    auto *box = new QGroupBox(tr("Builds"), this);
    m_fp32Check = new QCheckBox(tr("FP32"), box);
    m_fp32Check->setObjectName(QStringLiteral("variantFp32Check"));
    m_fp32Check->setToolTip(tr("Dense float32 linears: the baseline of the speed-up"));
    m_gemmCheck = new QCheckBox(tr("GEMM"), box);
    m_gemmCheck->setObjectName(QStringLiteral("variantGemmCheck"));
    m_gemmCheck->setToolTip(tr("int4 weights in AutoAWQ's GEMM packing (best for batches of long prompts)"));
    m_gemvCheck = new QCheckBox(tr("GEMV"), box);
    m_gemvCheck->setObjectName(QStringLiteral("variantGemvCheck"));
    m_gemvCheck->setToolTip(tr("int4 weights in AutoAWQ's GEMV packing (best for chat-style decode)"));
    for (QCheckBox *check : {m_fp32Check, m_gemmCheck, m_gemvCheck})
        check->setChecked(true);
    m_groupSizeCombo = new QComboBox(box);
    m_groupSizeCombo->setObjectName(QStringLiteral("groupSizeCombo"));
    for (int size : {32, 64, 128, 256})
        m_groupSizeCombo->addItem(QString::number(size), size);
    m_groupSizeCombo->setCurrentIndex(m_groupSizeCombo->findData(128));
    m_groupSizeCombo->setToolTip(tr("Group size of the int4 builds of a synthetic or full-precision model (an AWQ "
                                    "folder keeps its own)"));

    m_perplexityCheck = new QCheckBox(tr("Measure perplexity (slower)"), box);
    m_perplexityCheck->setObjectName(QStringLiteral("perplexityCheck"));

    auto *row = new QHBoxLayout;
    row->addWidget(m_fp32Check);
    row->addWidget(m_gemmCheck);
    row->addWidget(m_gemvCheck);
    row->addStretch(1);
    auto *groupLabel = new QLabel(tr("Group:"), box);
    groupLabel->setBuddy(m_groupSizeCombo);
    row->addWidget(groupLabel);
    row->addWidget(m_groupSizeCombo);
    auto *layout = new QVBoxLayout(box);
    layout->addLayout(row);
    layout->addWidget(m_perplexityCheck);
    return box;
}

QWidget *BenchmarkConfigPanel::buildWorkloadBox()
{
    auto *box = new QGroupBox(tr("Workload"), this);
    auto *listValidator = new QRegularExpressionValidator(QRegularExpression(QStringLiteral("[0-9, ]*")), box);
    m_batchEdit = new QLineEdit(QStringLiteral("1"), box);
    m_batchEdit->setObjectName(QStringLiteral("batchSizesEdit"));
    m_batchEdit->setValidator(listValidator);
    m_batchEdit->setToolTip(tr("Comma-separated batch sizes, e.g. 1,8"));
    m_prefillEdit = new QLineEdit(QStringLiteral("32,128,512"), box);
    m_prefillEdit->setObjectName(QStringLiteral("prefillLengthsEdit"));
    m_prefillEdit->setValidator(listValidator);
    m_prefillEdit->setToolTip(tr("Comma-separated prompt (context) lengths, e.g. 32,128,512"));
    m_decodeSpin = makeSpin("decodeLengthSpin", 1, 8192, 32, box);
    m_decodeSpin->setToolTip(tr("Decode steps per run; decode tokens/s is the batch over the median step time"));
    m_warmupSpin = makeSpin("warmupSpin", 0, 100, 1, box);
    m_warmupSpin->setToolTip(tr("Untimed warm-up runs per row before the timed ones (the prefill and up to %1 decode "
                                "steps)")
                                 .arg(awq::bench::kWarmupDecodeSteps));
    m_repeatsSpin = makeSpin("repeatsSpin", 1, 1000, 3, box);
    m_repeatsSpin->setToolTip(tr("Timed runs per row; the best one is reported"));
    const int cores = std::max(1, QThread::idealThreadCount());
    m_threadsSpin = makeSpin("threadsSpin", 1, cores, cores, box);
    m_threadsSpin->setToolTip(tr("CPU threads of the run (this machine has %1 logical CPUs)").arg(cores));

    m_deviceCombo = new QComboBox(box);
    m_deviceCombo->setObjectName(QStringLiteral("deviceCombo"));
    m_deviceCombo->addItem(tr("CPU"));
#ifdef AWQ_HAVE_CUDA
    m_deviceCombo->addItem(tr("CUDA GPU (not benchmarked here yet)"));
    if (auto *items = qobject_cast<QStandardItemModel *>(m_deviceCombo->model()))
        items->item(1)->setEnabled(false);
    m_deviceCombo->setToolTip(tr("This build has the CUDA kernels, but GPU benchmarks belong to the CUDA path, "
                                 "which has no decoder to time yet: the dashboard measures the CPU decoder."));
#else
    m_deviceCombo->setToolTip(tr("The fused CPU decoder (this build has no CUDA support)"));
#endif

    // Two label/field pairs per line for the small numbers, so the column stays short.
    auto *grid = new QGridLayout(box);
    const auto addRow = [box, grid](int row, int column, const QString &text, QWidget *field, int span = 1) {
        auto *label = new QLabel(text, box);
        label->setBuddy(field);
        grid->addWidget(label, row, column);
        grid->addWidget(field, row, column + 1, 1, span);
    };
    addRow(0, 0, tr("Batch sizes:"), m_batchEdit, 3);
    addRow(1, 0, tr("Prefill lengths:"), m_prefillEdit, 3);
    addRow(2, 0, tr("Decode length:"), m_decodeSpin);
    addRow(2, 2, tr("Warm-up:"), m_warmupSpin);
    addRow(3, 0, tr("Timed runs:"), m_repeatsSpin);
    addRow(3, 2, tr("Threads:"), m_threadsSpin);
    addRow(4, 0, tr("Device:"), m_deviceCombo, 3);
    grid->setColumnStretch(1, 1);
    grid->setColumnStretch(3, 1);
    return box;
}

void BenchmarkConfigPanel::setModelFolder(const QString &folder)
{
    m_fitNote.clear();
    m_folderEdit->setText(QDir::toNativeSeparators(folder));
    m_folderRadio->setChecked(true);
    // A model sent here from another page: prefill lengths its context cannot hold are
    // dropped from the list (the status says which), so the page is ready to run.
    try {
        const awq::ModelConfig config = awq::ModelConfig::load(quantui::toPath(QDir::cleanPath(folder)));
        QString error;
        if (const auto prefills = parseIntList(m_prefillEdit->text(), QString(), 1 << 20, &error)) {
            QStringList kept, dropped;
            for (const int64_t prefill : *prefills)
                (prefill + m_decodeSpin->value() <= config.maxPositionEmbeddings ? kept : dropped)
                    << QString::number(prefill);
            if (!dropped.isEmpty() && !kept.isEmpty()) {
                m_prefillEdit->setText(kept.join(QLatin1Char(',')));
                m_fitNote = tr("Prefill %1 left out: longer than the model's %2-token context.")
                                .arg(dropped.join(QStringLiteral(", ")))
                                .arg(config.maxPositionEmbeddings);
            }
        }
    } catch (const std::exception &) {
        // Not a model folder: revalidate() says why.
    }
    revalidate();
}

BenchmarkRequest BenchmarkConfigPanel::request() const
{
    return m_request.value_or(BenchmarkRequest{});
}

void BenchmarkConfigPanel::handleBrowse()
{
    const QString chosen = QFileDialog::getExistingDirectory(this, tr("Model Folder"), m_folderEdit->text());
    if (!chosen.isEmpty())
        setModelFolder(chosen);
}

void BenchmarkConfigPanel::updatePerplexityAvailability()
{
    const bool synthetic = m_syntheticRadio->isChecked();
    const bool available = !synthetic && !m_perplexityText.isEmpty();
    if (!available && m_perplexityCheck->isChecked()) {
        const QSignalBlocker quiet(m_perplexityCheck);
        m_perplexityCheck->setChecked(false);
    }
    m_perplexityCheck->setEnabled(available);
    if (synthetic)
        m_perplexityCheck->setToolTip(tr("A synthetic model has random weights, so its perplexity is meaningless: "
                                         "choose a model folder to measure quality."));
    else if (m_perplexityText.isEmpty())
        m_perplexityCheck->setToolTip(tr("The held-out text %1 was not found in the data folders (%2).")
                                          .arg(QString::fromLatin1(kPerplexityTextPath),
                                               ResourcePaths::dataDirectories().join(QStringLiteral(", "))));
    else
        m_perplexityCheck->setToolTip(tr("Perplexity of each build on %1: windows of %2 tokens (or the model's "
                                         "context), at most %3 of them, after the timed runs")
                                          .arg(QFileInfo(m_perplexityText).fileName())
                                          .arg(kPerplexitySeqLen)
                                          .arg(kPerplexityWindows));
}

std::optional<BenchmarkRequest> BenchmarkConfigPanel::readRequest(QString *error) const
{
    BenchmarkRequest request;
    awq::bench::BenchPlan &plan = request.plan;
    if (m_folderRadio->isChecked()) {
        const QString folder = m_folderEdit->text().trimmed();
        if (folder.isEmpty()) {
            *error = tr("Choose a model folder, or a synthetic shape.");
            return std::nullopt;
        }
        if (!QFileInfo(folder).isDir()) {
            *error = tr("%1 is not a folder.").arg(folder);
            return std::nullopt;
        }
        plan.modelFolder = QFile::encodeName(QDir::cleanPath(QFileInfo(folder).absoluteFilePath())).toStdString();
    } else {
        plan.syntheticShape = m_shapeCombo->currentText().toStdString();
    }
    plan.variants.clear();
    if (m_fp32Check->isChecked())
        plan.variants.push_back(Variant::Fp32);
    if (m_gemmCheck->isChecked())
        plan.variants.push_back(Variant::Gemm);
    if (m_gemvCheck->isChecked())
        plan.variants.push_back(Variant::Gemv);
    if (plan.variants.empty()) {
        *error = tr("Tick at least one build: FP32, GEMM or GEMV.");
        return std::nullopt;
    }
    const auto batches = parseIntList(m_batchEdit->text(), tr("Batch sizes"), 4096, error);
    if (!batches)
        return std::nullopt;
    const auto prefills = parseIntList(m_prefillEdit->text(), tr("Prefill lengths"), 1 << 20, error);
    if (!prefills)
        return std::nullopt;
    plan.batchSizes = *batches;
    plan.prefillLengths = *prefills;
    plan.decodeLength = m_decodeSpin->value();
    plan.warmup = m_warmupSpin->value();
    plan.repeats = m_repeatsSpin->value();
    plan.threads = m_threadsSpin->value();
    plan.groupSize = m_groupSizeCombo->currentData().toInt();
    request.measurePerplexity = m_perplexityCheck->isEnabled() && m_perplexityCheck->isChecked();
    request.perplexityText = m_perplexityText;
    request.perplexitySeqLen = kPerplexitySeqLen;
    request.perplexityMaxWindows = kPerplexityWindows;
    return request;
}

bool BenchmarkConfigPanel::checkPlan(const BenchmarkRequest &request, QString *error)
{
    const awq::bench::BenchPlan &plan = request.plan;
    awq::ModelConfig config;
    try {
        config = plan.syntheticShape.empty() ? awq::ModelConfig::load(plan.modelFolder)
                                             : awq::bench::syntheticConfig(plan.syntheticShape);
        // The runner re-quantizes synthetic and full-precision models with the plan's group size.
        if (!plan.syntheticShape.empty() || !config.quantization.present)
            for (Variant v : plan.variants)
                awq::bench::checkGroupSize(config, v, plan.groupSize);
    } catch (const std::exception &e) {
        *error = quantui::userMessage(e);
        return false;
    }

    const awq::SystemMemory memory = awq::systemMemory();
    QStringList needs;
    QString tooBig;
    awq::bench::MemoryNeed largest;
    for (Variant v : plan.variants) {
        const awq::bench::MemoryNeed need = awq::bench::estimatePlanMemory(plan, config, v);
        largest = need;
        needs << tr("%1 %2").arg(BenchmarkResults::variantText(v), bytesText(need.total()));
        if (memory.availableBytes > 0 && need.total() > memory.availableBytes && tooBig.isEmpty())
            tooBig = tr("The %1 build needs about %2 (weights %3, %4 more while it is made, then KV cache %5 and "
                        "activations %6) but only %7 of %8 is available now: untick it, or use smaller batches or "
                        "lengths.")
                         .arg(BenchmarkResults::variantText(v), bytesText(need.total()), bytesText(need.weightBytes),
                              bytesText(need.buildBytes), bytesText(need.kvCacheBytes), bytesText(need.activationBytes),
                              bytesText(memory.availableBytes), bytesText(memory.totalBytes));
    }
    m_estimateLabel->setText(tr("Estimated memory per build: %1 (largest row: batch %2, prefill %3 + decode %4). "
                                "Available now: %5 of %6.")
                                 .arg(needs.join(QStringLiteral(" · ")))
                                 .arg(largest.batch)
                                 .arg(largest.prefillLength)
                                 .arg(largest.decodeLength)
                                 .arg(bytesText(memory.availableBytes), bytesText(memory.totalBytes)));
    if (!tooBig.isEmpty()) {
        *error = tooBig;
        return false;
    }
    // A row longer than the model's context measures a model outside what it was made for
    // (and past its position table): refused, with the lengths that fit.
    QStringList tooLong;
    for (const int64_t prefill : plan.prefillLengths)
        if (prefill + plan.decodeLength > config.maxPositionEmbeddings)
            tooLong << QString::number(prefill);
    if (!tooLong.isEmpty()) {
        const qint64 room = config.maxPositionEmbeddings - plan.decodeLength;
        *error = tr("The model's context is %1 tokens: prefill %2 + decode %3 does not fit. %4")
                     .arg(config.maxPositionEmbeddings)
                     .arg(tooLong.join(QStringLiteral(", ")))
                     .arg(plan.decodeLength)
                     .arg(room >= 1 ? tr("Use prefill lengths up to %1, or a shorter decode.").arg(room)
                                    : tr("Use a decode length below %1.").arg(config.maxPositionEmbeddings));
        return false;
    }
    return true;
}

void BenchmarkConfigPanel::revalidate()
{
    const bool synthetic = m_syntheticRadio->isChecked();
    m_folderEdit->setEnabled(!synthetic);
    m_browseButton->setEnabled(!synthetic);
    m_shapeCombo->setEnabled(synthetic);
    updatePerplexityAvailability();

    const bool wasValid = isValid();
    QString error;
    m_request = readRequest(&error);
    if (m_request && !checkPlan(*m_request, &error))
        m_request.reset();
    if (!m_request && m_estimateLabel->text().isEmpty())
        m_estimateLabel->setText(tr("Estimated memory: set up a valid run first."));
    if (m_request) {
        const QString model = synthetic ? tr("synthetic %1 (random weights)").arg(m_shapeCombo->currentText())
                                        : QFileInfo(m_folderEdit->text().trimmed()).fileName();
        const qsizetype rows = qsizetype(m_request->plan.variants.size() * m_request->plan.batchSizes.size()
                                         * m_request->plan.prefillLengths.size());
        const QString ready = rows == 1 ? tr("Ready: 1 row on %1.").arg(model)
                                        : tr("Ready: %1 rows on %2.").arg(QString::number(rows), model);
        setStatus(m_fitNote.isEmpty() ? ready : ready + QLatin1Char(' ') + m_fitNote, false);
    } else {
        setStatus(error, true);
    }
    if (wasValid != isValid())
        Q_EMIT validityChanged(isValid());
}

void BenchmarkConfigPanel::setStatus(const QString &text, bool error)
{
    m_statusLabel->setText(text);
    m_statusLabel->setProperty("error", error);
    Theme::setTone(m_statusLabel, error ? Theme::Tone::Error : Theme::Tone::Normal);
}
