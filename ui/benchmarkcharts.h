#pragma once
// BenchmarkCharts: the dashboard's four bar charts side by side in a 2 x 2 grid — prefill
// tokens/s and decode tokens/s per (batch size, prefill length) with one bar set per build
// (FP32, GEMM, GEMV) and per run, the decode speed-up of the int4 builds against FP32, and
// the peak memory and weight bytes of each build. Rebuilt from the runs on every change and on
// a palette change (dark or light chart theme); each chart saves as PNG.

#include <optional>

#include <QImage>
#include <QList>
#include <QVector>
#include <QWidget>

#include "benchmarkresults.h"

QT_BEGIN_NAMESPACE
class QBarSet;
class QChart;
class QChartView;
class QLabel;
QT_END_NAMESPACE

class BenchmarkCharts final : public QWidget
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BenchmarkCharts)

public:
    enum class Kind { PrefillRate, DecodeRate, Speedup, Memory };

    explicit BenchmarkCharts(QWidget *parent = nullptr);

    static const QVector<Kind> &kinds();
    // "benchmark-prefill": the file name (without .png) a chart is exported under.
    static QString fileStem(Kind kind);

    void setRuns(const QVector<BenchmarkRun> &runs);

    QChartView *view(Kind kind) const;
    // The bar sets and the category (x axis) labels of a chart, in drawing order.
    QList<QBarSet *> barSets(Kind kind) const;
    QStringList categories(Kind kind) const;
    // Saves one chart (with the builds' legend) as a 900 x 600 PNG; on failure sets *error
    // naming the file.
    bool exportPng(Kind kind, const QString &path, QString *error) const;
    // Saves the four charts and the legend as one 1600 x 1000 PNG.
    bool exportAllPng(const QString &path, QString *error) const;
    // The charts laid out at `size` (all of them, or `only` with the legend).
    QImage render(const QSize &size, std::optional<Kind> only = std::nullopt) const;

Q_SIGNALS:
    // The user chose "Export as PNG…" in a chart's context menu.
    void exportRequested(BenchmarkCharts::Kind kind);

protected:
    void changeEvent(QEvent *event) override;

private:
    void rebuild();
    QChart *buildRateChart(Kind kind) const;
    QChart *buildSpeedupChart() const;
    QChart *buildMemoryChart() const;
    QChart *newChart(const QString &title) const;
    static bool writePng(const QImage &image, const QString &path, QString *error);

    QVector<BenchmarkRun> m_runs;
    QVector<QChartView *> m_views; // indexed by Kind
    QLabel *m_legend = nullptr;    // the builds' colours, shared by all but the memory chart
    bool m_rebuilding = false;
};
