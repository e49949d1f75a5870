#include "benchmarkresults.h"

#include <exception>
#include <string>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QObject>
#include <QSaveFile>

#include <nlohmann/json.hpp>

#include "awq/io/json_file.h"
#include "quantizepagehelpers.h"

namespace BenchmarkResults {

using awq::bench::BenchReport;
using awq::bench::BenchRow;
using awq::bench::Variant;

QString variantText(Variant variant)
{
    return QString::fromLatin1(awq::bench::variantLabel(variant));
}

const QVector<Variant> &allVariants()
{
    static const QVector<Variant> variants = {Variant::Fp32, Variant::Gemm, Variant::Gemv};
    return variants;
}

QString caseLabel(qint64 batch, qint64 prefillLength)
{
    return QObject::tr("b%1 · p%2").arg(batch).arg(prefillLength);
}

const BenchRow *fp32Baseline(const BenchReport &report, const BenchRow &row)
{
    for (const BenchRow &candidate : report.rows)
        if (candidate.variant == Variant::Fp32 && candidate.batch == row.batch
            && candidate.prefillLength == row.prefillLength && candidate.decodeLength == row.decodeLength)
            return &candidate;
    return nullptr;
}

std::optional<double> decodeSpeedup(const BenchReport &report, const BenchRow &row)
{
    const BenchRow *base = fp32Baseline(report, row);
    if (!base || base->decodeTokensPerSecond <= 0)
        return std::nullopt;
    return row.decodeTokensPerSecond / base->decodeTokensPerSecond;
}

std::optional<double> prefillSpeedup(const BenchReport &report, const BenchRow &row)
{
    const BenchRow *base = fp32Baseline(report, row);
    if (!base || base->prefillTokensPerSecond <= 0)
        return std::nullopt;
    return row.prefillTokensPerSecond / base->prefillTokensPerSecond;
}

const awq::bench::VariantPerplexity *perplexity(const BenchReport &report, Variant variant)
{
    for (const auto &measured : report.perplexity)
        if (measured.variant == variant)
            return &measured;
    return nullptr;
}

QString labelForFile(const QString &path)
{
    return QFileInfo(path).fileName();
}

std::optional<BenchmarkRun> loadRun(const QString &path, QString *error)
{
    const QString shown = QDir::toNativeSeparators(path);
    try {
        const nlohmann::json document =
            awq::readJsonFile(std::filesystem::path(QFile::encodeName(path).toStdString()));
        BenchmarkRun run;
        run.label = labelForFile(path);
        run.loaded = true;
        run.report = awq::bench::reportFromJson(document, shown.toStdString());
        return run;
    } catch (const std::exception &e) {
        // Engine errors already name the file; the others get its name here.
        const QString message = quantui::userMessage(e);
        *error = message.contains(shown) ? message : QObject::tr("%1: %2").arg(shown, message);
    }
    return std::nullopt;
}

namespace {

bool writeAtomically(const QString &path, const QByteArray &bytes, QString *error)
{
    QSaveFile file(path);
    const QString shown = QDir::toNativeSeparators(path);
    if (!file.open(QIODevice::WriteOnly)) {
        *error = QObject::tr("Cannot write %1: %2").arg(shown, file.errorString());
        return false;
    }
    if (file.write(bytes) != bytes.size() || !file.commit()) {
        *error = QObject::tr("Writing %1 failed: %2").arg(shown, file.errorString());
        return false;
    }
    return true;
}

} // namespace

bool saveJson(const BenchReport &report, const QString &path, QString *error)
{
    const std::string text = awq::bench::toJson(report).dump(2) + "\n";
    return writeAtomically(path, QByteArray::fromStdString(text), error);
}

bool saveCsv(const BenchReport &report, const QString &path, QString *error)
{
    return writeAtomically(path, QByteArray::fromStdString(awq::bench::toCsv(report)), error);
}

} // namespace BenchmarkResults
