#include "benchmarkcharts.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <utility>

#include <QAction>
#include <QDir>
#include <QEvent>
#include <QGridLayout>
#include <QImageWriter>
#include <QLabel>
#include <QLocale>
#include <QToolTip>
#include <QVBoxLayout>
#include <QCursor>
#include <QPen>
#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QChart>
#include <QtCharts/QChartView>
#include <QtCharts/QLegend>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

using awq::bench::BenchReport;
using awq::bench::BenchRow;
using awq::bench::Variant;
using BenchmarkResults::variantText;

namespace {

constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;
// Value labels on the bars only while they fit side by side (a 1200-pixel window holds
// six five-digit labels per chart); hovering a bar always shows its value.
constexpr int kMaxLabelledBars = 6;

// One colour per build, readable on light and dark backgrounds; runs loaded to compare
// get paler tones of it.
QColor variantColor(Variant variant, int runIndex, bool secondary)
{
    QColor base;
    switch (variant) {
    case Variant::Fp32: base = QColor(0x8a, 0x94, 0xa6); break;
    case Variant::Gemm: base = QColor(0x3b, 0x82, 0xf6); break;
    case Variant::Gemv: base = QColor(0xf5, 0x9e, 0x0b); break;
    }
    float h = 0, s = 0, l = 0;
    base.getHslF(&h, &s, &l);
    const int step = runIndex + (secondary ? 1 : 0);
    s = std::max(0.0f, s - 0.25f * static_cast<float>(step));
    l = std::min(0.85f, l + 0.12f * static_cast<float>(step));
    return QColor::fromHslF(h, s, l);
}

// (batch, prefill length) pairs over all runs, ordered by batch then prefill.
std::vector<std::pair<int64_t, int64_t>> cases(const QVector<BenchmarkRun> &runs)
{
    std::vector<std::pair<int64_t, int64_t>> out;
    for (const BenchmarkRun &run : runs)
        for (const BenchRow &row : run.report.rows)
            out.emplace_back(row.batch, row.prefillLength);
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

QVector<Variant> variantsOf(const BenchReport &report)
{
    QVector<Variant> out;
    for (Variant v : BenchmarkResults::allVariants())
        for (const BenchRow &row : report.rows)
            if (row.variant == v) {
                out.push_back(v);
                break;
            }
    return out;
}

const BenchRow *findRow(const BenchReport &report, Variant variant, int64_t batch, int64_t prefill)
{
    for (const BenchRow &row : report.rows)
        if (row.variant == variant && row.batch == batch && row.prefillLength == prefill)
            return &row;
    return nullptr;
}

// Run labels longer than this are shortened in legends (the table and the summary above
// it give them whole).
constexpr int kMaxLegendRunLabel = 18;

// A bar set's name: the build alone for a single run, with the run's label to compare.
QString setName(const QVector<BenchmarkRun> &runs, const BenchmarkRun &run, const QString &what)
{
    if (runs.size() == 1)
        return what;
    const QString label = run.label.size() > kMaxLegendRunLabel
                              ? run.label.left(kMaxLegendRunLabel - 1) + QChar(0x2026)
                              : run.label;
    return QStringLiteral("%1 · %2").arg(what, label);
}

// Short category labels, so that a group's label fits under its bars: only what varies
// (the prefill length when every row has the same batch, the batch when every row has the
// same prefill); the axis title says what the numbers are.
struct CaseAxis
{
    QStringList labels;
    QString title;
};

CaseAxis caseAxis(const std::vector<std::pair<int64_t, int64_t>> &pairs)
{
    CaseAxis axis;
    bool oneBatch = true, onePrefill = true;
    for (const auto &[batch, prefill] : pairs) {
        oneBatch = oneBatch && batch == pairs.front().first;
        onePrefill = onePrefill && prefill == pairs.front().second;
    }
    for (const auto &[batch, prefill] : pairs)
        axis.labels << (oneBatch    ? QString::number(prefill)
                        : onePrefill ? QString::number(batch)
                                     : BenchmarkResults::caseLabel(batch, prefill));
    if (pairs.empty())
        axis.title = QObject::tr("batch · prefill length");
    else if (oneBatch)
        axis.title = QObject::tr("prefill length (batch %1)").arg(pairs.front().first);
    else if (onePrefill)
        axis.title = QObject::tr("batch (prefill length %1)").arg(pairs.front().second);
    else
        axis.title = QObject::tr("batch · prefill length");
    return axis;
}

// Attaches category and value axes; the value axis starts at 0 and ends on a round number.
QValueAxis *attachAxes(QChart *chart, QAbstractBarSeries *series, const QStringList &categories, double maxValue,
                       const QString &valueTitle, const QString &categoryTitle)
{
    auto *x = new QBarCategoryAxis(chart);
    x->append(categories);
    x->setTitleText(categoryTitle);
    auto *y = new QValueAxis(chart);
    y->setTitleText(valueTitle);
    y->setRange(0, maxValue > 0 ? maxValue * 1.15 : 1.0);
    y->applyNiceNumbers();
    y->setLabelFormat(y->max() >= 20 ? QStringLiteral("%.0f") : QStringLiteral("%.2g"));
    chart->addAxis(x, Qt::AlignBottom);
    chart->addAxis(y, Qt::AlignLeft);
    series->attachAxis(x);
    series->attachAxis(y);
    return y;
}

// Value labels above the bars while they fit, with the significant digits of the largest
// value's integer part (at least 3): 16638 and 5883 tokens/s, 1.92 and 0.473 (x FP32).
void showValueLabels(QBarSeries *series, const QColor &textColor)
{
    int bars = 0;
    double maxValue = 0;
    for (QBarSet *set : series->barSets())
        for (int i = 0; i < set->count(); ++i, ++bars)
            maxValue = std::max(maxValue, set->at(i));
    if (bars == 0 || bars > kMaxLabelledBars)
        return;
    series->setBarWidth(0.8);
    const int integerDigits = maxValue >= 1 ? static_cast<int>(std::floor(std::log10(maxValue))) + 1 : 1;
    series->setLabelsVisible(true);
    series->setLabelsPosition(QAbstractBarSeries::LabelsOutsideEnd);
    series->setLabelsFormat(QStringLiteral("@value"));
    series->setLabelsPrecision(std::max(3, integerDigits));
    for (QBarSet *set : series->barSets())
        set->setLabelColor(textColor);
}

// Hovering a bar shows "<set> · <category>: <value> <unit>".
void addHoverValues(QBarSeries *series, const QStringList &categories, const QString &unit, int decimals)
{
    for (QBarSet *set : series->barSets())
        QObject::connect(set, &QBarSet::hovered, set, [set, categories, unit, decimals](bool inside, int index) {
            if (!inside || index < 0 || index >= categories.size()) {
                QToolTip::hideText();
                return;
            }
            QToolTip::showText(QCursor::pos(), QStringLiteral("%1 · %2: %3 %4")
                                                   .arg(set->label(), categories[index],
                                                        QLocale().toString(set->at(index), 'f', decimals), unit));
        });
}

// A legend entry as rich text: a square in the set's colour and its name.
QString legendEntry(const QColor &color, const QString &name)
{
    return QStringLiteral("<span style=\"color:%1\">&#9632;</span>&nbsp;%2").arg(color.name(), name.toHtmlEscaped());
}

} // namespace

BenchmarkCharts::BenchmarkCharts(QWidget *parent) : QWidget(parent)
{
    // One legend for the three charts whose bars are builds: it wraps, where a chart's own
    // legend would cut the names of compared runs short.
    m_legend = new QLabel(this);
    m_legend->setObjectName(QStringLiteral("chartLegendLabel"));
    m_legend->setWordWrap(true);
    m_legend->setTextFormat(Qt::RichText);
    m_legend->setAlignment(Qt::AlignCenter);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(4);
    layout->addWidget(m_legend);
    auto *grid = new QGridLayout;
    grid->setContentsMargins(0, 0, 0, 0);
    grid->setSpacing(6);
    layout->addLayout(grid, 1);
    const char *names[] = {"prefillChart", "decodeChart", "speedupChart", "memoryChart"};
    for (Kind kind : kinds()) {
        const int i = static_cast<int>(kind);
        auto *view = new QChartView(this);
        view->setObjectName(QString::fromLatin1(names[i]));
        view->setRenderHint(QPainter::Antialiasing);
        view->setMinimumSize(280, 200);
        auto *exportAction = new QAction(tr("Export as PNG…"), view);
        connect(exportAction, &QAction::triggered, this, [this, kind] { Q_EMIT exportRequested(kind); });
        view->addAction(exportAction);
        view->setContextMenuPolicy(Qt::ActionsContextMenu);
        grid->addWidget(view, i / 2, i % 2);
        m_views.push_back(view);
    }
    rebuild();
}

const QVector<BenchmarkCharts::Kind> &BenchmarkCharts::kinds()
{
    static const QVector<Kind> all = {Kind::PrefillRate, Kind::DecodeRate, Kind::Speedup, Kind::Memory};
    return all;
}

QString BenchmarkCharts::fileStem(Kind kind)
{
    switch (kind) {
    case Kind::PrefillRate: return QStringLiteral("benchmark-prefill");
    case Kind::DecodeRate: return QStringLiteral("benchmark-decode");
    case Kind::Speedup: return QStringLiteral("benchmark-speedup");
    case Kind::Memory: return QStringLiteral("benchmark-memory");
    }
    return {};
}

void BenchmarkCharts::setRuns(const QVector<BenchmarkRun> &runs)
{
    m_runs = runs;
    rebuild();
}

QChartView *BenchmarkCharts::view(Kind kind) const
{
    return m_views[static_cast<int>(kind)];
}

QList<QBarSet *> BenchmarkCharts::barSets(Kind kind) const
{
    for (QAbstractSeries *series : view(kind)->chart()->series())
        if (auto *bars = qobject_cast<QBarSeries *>(series))
            return bars->barSets();
    return {};
}

QStringList BenchmarkCharts::categories(Kind kind) const
{
    for (QAbstractAxis *axis : view(kind)->chart()->axes(Qt::Horizontal))
        if (auto *categoryAxis = qobject_cast<QBarCategoryAxis *>(axis))
            return categoryAxis->categories();
    return {};
}

QImage BenchmarkCharts::render(const QSize &size, std::optional<Kind> only) const
{
    // A copy laid out at `size` off screen, so that the picture does not depend on the
    // window's size (a small window's charts would be cramped and their labels cut).
    BenchmarkCharts copy;
    copy.setAttribute(Qt::WA_DontShowOnScreen);
    copy.setPalette(palette());
    copy.setRuns(m_runs);
    if (only) {
        for (Kind kind : kinds())
            copy.view(kind)->setVisible(kind == *only);
        // A single chart keeps the shared legend unless it is the memory chart (its own legend).
        copy.m_legend->setVisible(*only != Kind::Memory && !copy.m_legend->text().isEmpty());
    }
    copy.resize(size);
    copy.show();
    copy.layout()->activate();
    return copy.grab().toImage();
}

bool BenchmarkCharts::exportAllPng(const QString &path, QString *error) const
{
    return writePng(render(QSize(1600, 1000)), path, error);
}

bool BenchmarkCharts::exportPng(Kind kind, const QString &path, QString *error) const
{
    return writePng(render(QSize(900, 600), kind), path, error);
}

bool BenchmarkCharts::writePng(const QImage &image, const QString &path, QString *error)
{
    QImageWriter writer(path, "png");
    if (!writer.write(image)) {
        *error = tr("Cannot write %1: %2").arg(QDir::toNativeSeparators(path), writer.errorString());
        return false;
    }
    return true;
}

void BenchmarkCharts::changeEvent(QEvent *event)
{
    QWidget::changeEvent(event);
    if (event->type() == QEvent::PaletteChange && !m_rebuilding)
        rebuild();
}

QChart *BenchmarkCharts::newChart(const QString &title) const
{
    auto *chart = new QChart;
    // The theme first: it resets the colours of everything added before it.
    const bool dark = palette().color(QPalette::Window).lightness() < 128;
    chart->setTheme(dark ? QChart::ChartThemeDark : QChart::ChartThemeLight);
    chart->setBackgroundBrush(palette().brush(QPalette::Base));
    chart->setTitleBrush(palette().brush(QPalette::Text));
    chart->legend()->setLabelColor(palette().color(QPalette::Text));
    chart->legend()->setAlignment(Qt::AlignBottom);
    chart->setTitle(title);
    QFont font = chart->titleFont();
    font.setBold(true);
    chart->setTitleFont(font);
    chart->setMargins(QMargins(4, 4, 4, 4));
    return chart;
}

void BenchmarkCharts::rebuild()
{
    m_rebuilding = true;
    for (Kind kind : kinds()) {
        QChart *chart = nullptr;
        switch (kind) {
        case Kind::PrefillRate:
        case Kind::DecodeRate: chart = buildRateChart(kind); break;
        case Kind::Speedup: chart = buildSpeedupChart(); break;
        case Kind::Memory: chart = buildMemoryChart(); break;
        }
        // The builds' colours are in the shared legend above the grid.
        chart->legend()->setVisible(kind == Kind::Memory);
        QChartView *v = view(kind);
        QChart *previous = v->chart();
        v->setChart(chart); // the view owns the new chart and releases the old one
        delete previous;
    }
    QStringList entries;
    for (int r = 0; r < m_runs.size(); ++r)
        for (Variant variant : variantsOf(m_runs[r].report))
            entries << legendEntry(variantColor(variant, r, false),
                                   setName(m_runs, m_runs[r], variantText(variant)));
    m_legend->setText(entries.join(QStringLiteral(" &nbsp;&nbsp; ")));
    m_legend->setVisible(!entries.isEmpty());
    m_rebuilding = false;
}

QChart *BenchmarkCharts::buildRateChart(Kind kind) const
{
    const bool prefill = kind == Kind::PrefillRate;
    QChart *chart = newChart(prefill ? tr("Prefill tokens/s") : tr("Decode tokens/s"));
    const auto pairs = cases(m_runs);
    if (pairs.empty())
        return chart;
    auto *series = new QBarSeries(chart);
    double maxValue = 0;
    for (int r = 0; r < m_runs.size(); ++r) {
        const BenchmarkRun &run = m_runs[r];
        for (Variant variant : variantsOf(run.report)) {
            auto *set = new QBarSet(setName(m_runs, run, variantText(variant)), series);
            set->setColor(variantColor(variant, r, false));
            set->setBorderColor(variantColor(variant, r, false));
            for (const auto &[batch, length] : pairs) {
                const BenchRow *row = findRow(run.report, variant, batch, length);
                const double v = row ? (prefill ? row->prefillTokensPerSecond : row->decodeTokensPerSecond) : 0.0;
                set->append(v);
                maxValue = std::max(maxValue, v);
            }
            series->append(set);
        }
    }
    chart->addSeries(series);
    const CaseAxis axis = caseAxis(pairs);
    attachAxes(chart, series, axis.labels, maxValue, tr("tokens/s"), axis.title);
    showValueLabels(series, palette().color(QPalette::Text));
    addHoverValues(series, axis.labels, tr("tokens/s"), 1);
    return chart;
}

QChart *BenchmarkCharts::buildSpeedupChart() const
{
    // Decode, the step int4 weights speed up; the prefill ratio is in the table's tooltips
    // and side by side in the prefill chart.
    QChart *chart = newChart(tr("Decode speed-up vs FP32"));
    const auto pairs = cases(m_runs);
    auto *series = new QBarSeries(chart);
    double maxValue = 1.0;
    for (int r = 0; r < m_runs.size(); ++r) {
        const BenchmarkRun &run = m_runs[r];
        for (Variant variant : variantsOf(run.report)) {
            if (variant == Variant::Fp32)
                continue;
            auto *set = new QBarSet(setName(m_runs, run, variantText(variant)), series);
            set->setColor(variantColor(variant, r, false));
            set->setBorderColor(variantColor(variant, r, false));
            bool any = false;
            for (const auto &[batch, length] : pairs) {
                const BenchRow *row = findRow(run.report, variant, batch, length);
                const auto speedup = row ? BenchmarkResults::decodeSpeedup(run.report, *row) : std::nullopt;
                set->append(speedup.value_or(0.0));
                any = any || speedup.has_value();
                maxValue = std::max(maxValue, speedup.value_or(0.0));
            }
            if (any)
                series->append(set);
            else
                delete set;
        }
    }
    if (series->count() == 0) {
        delete series;
        if (!m_runs.isEmpty())
            chart->setTitle(tr("Decode speed-up vs FP32: no FP32 and int4 rows to compare"));
        return chart;
    }
    chart->addSeries(series);
    const CaseAxis axis = caseAxis(pairs);
    attachAxes(chart, series, axis.labels, maxValue, tr("× FP32 (dashed: 1×)"), axis.title);
    // FP32 itself: a dashed line at 1× across the groups, explained by the axis title.
    auto *reference = new QLineSeries(chart);
    reference->append(-0.5, 1.0);
    reference->append(static_cast<double>(pairs.size()) - 0.5, 1.0);
    QPen pen(palette().color(QPalette::Text));
    pen.setStyle(Qt::DashLine);
    pen.setWidthF(1.5);
    reference->setPen(pen);
    chart->addSeries(reference);
    for (QAbstractAxis *axis : chart->axes())
        reference->attachAxis(axis);
    showValueLabels(series, palette().color(QPalette::Text));
    addHoverValues(series, axis.labels, tr("× FP32"), 2);
    return chart;
}

QChart *BenchmarkCharts::buildMemoryChart() const
{
    QChart *chart = newChart(tr("Memory per build"));
    QVector<Variant> variants;
    for (Variant v : BenchmarkResults::allVariants())
        for (const BenchmarkRun &run : m_runs)
            if (variantsOf(run.report).contains(v) && !variants.contains(v)) {
                variants.push_back(v);
                break;
            }
    if (variants.isEmpty())
        return chart;
    // Per run and build: the highest peak over its rows, and its weights.
    double maxBytes = 0;
    std::vector<std::map<Variant, std::pair<double, double>>> perRun(static_cast<size_t>(m_runs.size()));
    for (int r = 0; r < m_runs.size(); ++r)
        for (const BenchRow &row : m_runs[r].report.rows) {
            auto &[peak, weights] = perRun[static_cast<size_t>(r)][row.variant];
            peak = std::max(peak, static_cast<double>(row.peakRssBytes));
            weights = std::max(weights, static_cast<double>(row.weightBytes));
            maxBytes = std::max(maxBytes, peak);
        }
    const bool gib = maxBytes >= kGiB;
    const double unit = gib ? kGiB : kMiB;
    // One run: its peak and its weights per build. Several: the peak of each (their weights
    // differ only with the model, which the table names).
    const bool withWeights = m_runs.size() == 1;
    auto *series = new QBarSeries(chart);
    for (int r = 0; r < m_runs.size(); ++r) {
        const BenchmarkRun &run = m_runs[r];
        const QColor accent = QColor::fromHslF(0.78f, std::max(0.0f, 0.55f - 0.2f * static_cast<float>(r)),
                                               std::min(0.8f, 0.55f + 0.1f * static_cast<float>(r)));
        const auto &values = perRun[static_cast<size_t>(r)];
        const auto addSet = [&](const QString &name, const QColor &color, bool peak) {
            auto *set = new QBarSet(setName(m_runs, run, name), series);
            set->setColor(color);
            set->setBorderColor(color);
            for (Variant v : variants) {
                const auto found = values.find(v);
                set->append(found == values.end() ? 0.0
                                                  : (peak ? found->second.first : found->second.second) / unit);
            }
            series->append(set);
        };
        addSet(withWeights ? tr("Peak memory (RSS)") : tr("Peak"), accent, true);
        if (withWeights)
            addSet(tr("Weights"), accent.lighter(150), false);
    }
    QStringList categories;
    for (Variant v : variants)
        categories << variantText(v);
    chart->addSeries(series);
    attachAxes(chart, series, categories, maxBytes / unit, gib ? tr("GiB") : tr("MiB"), QString());
    showValueLabels(series, palette().color(QPalette::Text));
    addHoverValues(series, categories, gib ? tr("GiB") : tr("MiB"), 2);
    return chart;
}
