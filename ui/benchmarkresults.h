#pragma once
// The benchmark dashboard's data: a benchmark report (awq::bench::BenchReport, a plain
// value from the engine) with the label it is shown under, the numbers derived from it
// (speed-up against the FP32 build, a build's perplexity), and reading and writing
// reports as files. Shared by the table, the charts and the page; GUI thread only.

#include <optional>

#include <QMetaType>
#include <QString>
#include <QVector>

#include "awq/bench/bench_runner.h"

Q_DECLARE_METATYPE(awq::bench::BenchReport)

struct BenchmarkRun {
    QString label;       // "This run", or the name of the file it was loaded from
    bool loaded = false; // read from a file (to compare), not measured by this page
    awq::bench::BenchReport report;
};

namespace BenchmarkResults {

// "FP32", "GEMM" or "GEMV" (AutoAWQ's Version column)
QString variantText(awq::bench::Variant variant);
// The variants in the order of the charts: FP32, GEMM, GEMV.
const QVector<awq::bench::Variant> &allVariants();
// "b1 · p128" (batch 1, prefill length 128): one group of bars in the charts.
QString caseLabel(qint64 batch, qint64 prefillLength);

// The FP32 row of the same report with the same batch size and prefill length.
const awq::bench::BenchRow *fp32Baseline(const awq::bench::BenchReport &report, const awq::bench::BenchRow &row);
// Tokens/s of `row` over those of its FP32 baseline; nothing when there is no baseline.
std::optional<double> decodeSpeedup(const awq::bench::BenchReport &report, const awq::bench::BenchRow &row);
std::optional<double> prefillSpeedup(const awq::bench::BenchReport &report, const awq::bench::BenchRow &row);
// The measured perplexity of a build of the report.
const awq::bench::VariantPerplexity *perplexity(const awq::bench::BenchReport &report,
                                                awq::bench::Variant variant);

// The label a run loaded from `path` is shown under: its file name.
QString labelForFile(const QString &path);
// Reads a report saved as JSON (by this page or `awq bench --json`). On failure returns
// nothing and sets *error to a sentence naming the file and the problem.
std::optional<BenchmarkRun> loadRun(const QString &path, QString *error);
// Writes the report as JSON (toJson) or CSV (toCsv), replacing `path` only once the whole
// file is written. On failure returns false and sets *error naming the file.
bool saveJson(const awq::bench::BenchReport &report, const QString &path, QString *error);
bool saveCsv(const awq::bench::BenchReport &report, const QString &path, QString *error);

} // namespace BenchmarkResults
