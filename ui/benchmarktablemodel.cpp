#include "benchmarktablemodel.h"

#include <QFont>
#include <QLocale>

#include "awq/model/model_info.h"

using awq::bench::BenchRow;
using BenchmarkResults::variantText;

namespace {

QString bytesText(quint64 bytes)
{
    return QString::fromStdString(awq::formatBytes(bytes));
}

QString rateText(double tokensPerSecond)
{
    return QLocale().toString(tokensPerSecond, 'f', tokensPerSecond >= 100 ? 1 : 2);
}

} // namespace

BenchmarkTableModel::BenchmarkTableModel(QObject *parent) : QAbstractTableModel(parent)
{
}

void BenchmarkTableModel::setRuns(const QVector<BenchmarkRun> &runs)
{
    beginResetModel();
    m_runs = runs;
    m_entries.clear();
    for (int r = 0; r < m_runs.size(); ++r)
        for (int i = 0; i < static_cast<int>(m_runs[r].report.rows.size()); ++i)
            m_entries.push_back({r, i});
    endResetModel();
}

bool BenchmarkTableModel::hasPerplexity() const
{
    for (const BenchmarkRun &run : m_runs)
        if (!run.report.perplexity.empty())
            return true;
    return false;
}

int BenchmarkTableModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_entries.size());
}

int BenchmarkTableModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant BenchmarkTableModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case PrefillRateColumn: return tr("batch × prefill length / prefill time (best of the timed runs)");
        case DecodeRateColumn: return tr("batch / median decode-step time (best of the timed runs)");
        case MemoryColumn:
            return tr("Peak resident memory of the process during the row's timed runs (weights, KV cache, "
                      "buffers and the application itself)");
        case SpeedupColumn:
            return tr("Decode tokens/s over those of the FP32 build at the same batch size and prefill length "
                      "(the tooltip of a cell gives prefill too)");
        case PerplexityColumn: return tr("Perplexity of the build on the held-out text (lower is better)");
        default: return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case RunColumn: return tr("Run");
    case VersionColumn: return tr("Version");
    // AutoAWQ's column names, on two lines so that the table fits beside the set-up.
    case BatchColumn: return tr("Batch\nSize");
    case PrefillLengthColumn: return tr("Prefill\nLength");
    case DecodeLengthColumn: return tr("Decode\nLength");
    case PrefillRateColumn: return tr("Prefill\ntokens/s");
    case DecodeRateColumn: return tr("Decode\ntokens/s");
    case MemoryColumn: return tr("Memory");
    case SpeedupColumn: return tr("Speed-up\nvs FP32");
    case PerplexityColumn: return tr("Perplexity");
    default: return {};
    }
}

QVariant BenchmarkTableModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= m_entries.size())
        return {};
    const Entry &entry = m_entries[index.row()];
    const BenchmarkRun &run = m_runs[entry.run];
    const BenchRow &row = run.report.rows[static_cast<size_t>(entry.row)];
    switch (role) {
    case Qt::DisplayRole: return displayText(run, row, index.column());
    case ValueRole: return value(run, row, index.column());
    case Qt::ToolTipRole: return toolTip(run, row, index.column());
    case Qt::TextAlignmentRole:
        return index.column() <= VersionColumn ? QVariant(Qt::AlignLeft | Qt::AlignVCenter)
                                               : QVariant(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::FontRole:
        if (run.loaded) {
            QFont italic;
            italic.setItalic(true);
            return italic;
        }
        return {};
    default: return {};
    }
}

QVariant BenchmarkTableModel::value(const BenchmarkRun &run, const BenchRow &row, int column) const
{
    switch (column) {
    case BatchColumn: return qint64(row.batch);
    case PrefillLengthColumn: return qint64(row.prefillLength);
    case DecodeLengthColumn: return qint64(row.decodeLength);
    case PrefillRateColumn: return row.prefillTokensPerSecond;
    case DecodeRateColumn: return row.decodeTokensPerSecond;
    case MemoryColumn: return quint64(row.peakRssBytes);
    case SpeedupColumn: {
        const auto speedup = BenchmarkResults::decodeSpeedup(run.report, row);
        return speedup ? QVariant(*speedup) : QVariant();
    }
    case PerplexityColumn: {
        const auto *measured = BenchmarkResults::perplexity(run.report, row.variant);
        return measured ? QVariant(measured->perplexity) : QVariant();
    }
    default: return {};
    }
}

QVariant BenchmarkTableModel::displayText(const BenchmarkRun &run, const BenchRow &row, int column) const
{
    switch (column) {
    case RunColumn: return run.label;
    case VersionColumn: return variantText(row.variant);
    case BatchColumn:
    case PrefillLengthColumn:
    case DecodeLengthColumn: return QString::number(value(run, row, column).toLongLong());
    case PrefillRateColumn: return rateText(row.prefillTokensPerSecond);
    case DecodeRateColumn: return rateText(row.decodeTokensPerSecond);
    case MemoryColumn: {
        const quint64 total = run.report.machine.memoryTotalBytes;
        if (total == 0)
            return bytesText(row.peakRssBytes);
        return tr("%1 (%2%)")
            .arg(bytesText(row.peakRssBytes),
                 QLocale().toString(100.0 * static_cast<double>(row.peakRssBytes) / static_cast<double>(total), 'f',
                                    1));
    }
    case SpeedupColumn: {
        const QVariant speedup = value(run, row, column);
        return speedup.isValid() ? tr("%1×").arg(QLocale().toString(speedup.toDouble(), 'f', 2))
                                 : QStringLiteral("—");
    }
    case PerplexityColumn: {
        const QVariant perplexity = value(run, row, column);
        return perplexity.isValid() ? QLocale().toString(perplexity.toDouble(), 'f', 2) : QStringLiteral("—");
    }
    default: return {};
    }
}

QVariant BenchmarkTableModel::toolTip(const BenchmarkRun &run, const BenchRow &row, int column) const
{
    const awq::bench::BenchReport &report = run.report;
    switch (column) {
    case RunColumn:
        return tr("%1\n%2\n%3, %4 threads, int4 kernels %5")
            .arg(run.label, QString::fromStdString(report.model), QString::fromStdString(report.machine.cpuModel))
            .arg(report.machine.threads)
            .arg(QString::fromStdString(report.machine.isa));
    case VersionColumn:
        for (const auto &info : report.variants)
            if (info.variant == row.variant)
                return QString::fromStdString(info.description + "\n" + info.weights);
        return {};
    case MemoryColumn:
        return tr("Peak RSS %1: weights %2, KV cache %3, buffers %4")
            .arg(bytesText(row.peakRssBytes), bytesText(row.weightBytes), bytesText(row.kvCacheBytes),
                 bytesText(row.bufferBytes));
    case SpeedupColumn: {
        const auto decode = BenchmarkResults::decodeSpeedup(report, row);
        const auto prefill = BenchmarkResults::prefillSpeedup(report, row);
        if (!decode || !prefill)
            return tr("No FP32 row with the same batch size and prefill length in this run");
        return tr("Decode %1×, prefill %2× the FP32 build")
            .arg(QLocale().toString(*decode, 'f', 2), QLocale().toString(*prefill, 'f', 2));
    }
    case PerplexityColumn: {
        const auto *measured = BenchmarkResults::perplexity(report, row.variant);
        if (!measured)
            return tr("Not measured");
        return tr("%1 windows of %2 tokens of %3, %4 s")
            .arg(measured->windows)
            .arg(measured->seqLen)
            .arg(QString::fromStdString(measured->text))
            .arg(QLocale().toString(measured->seconds, 'f', 1));
    }
    default: return {};
    }
}
