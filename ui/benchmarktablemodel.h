#pragma once
// BenchmarkTableModel: the benchmark rows of one or more runs (this page's run and reports
// loaded to compare) in AutoAWQ's columns — Version, Batch Size, Prefill Length, Decode
// Length, Prefill tokens/s, Decode tokens/s, Memory — after a Run column naming where the
// row comes from, plus the decode speed-up against the FP32 row of the same run, batch and
// prefill length, and the build's perplexity when it was measured.

#include <QAbstractTableModel>
#include <QVector>

#include "benchmarkresults.h"

class BenchmarkTableModel final : public QAbstractTableModel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BenchmarkTableModel)

public:
    enum Column {
        RunColumn,
        VersionColumn,
        BatchColumn,
        PrefillLengthColumn,
        DecodeLengthColumn,
        PrefillRateColumn,
        DecodeRateColumn,
        MemoryColumn,
        SpeedupColumn,
        PerplexityColumn,
        ColumnCount
    };
    // The number behind a cell (tokens/s, bytes, ×, perplexity); invalid where there is none.
    static constexpr int ValueRole = Qt::UserRole + 1;

    explicit BenchmarkTableModel(QObject *parent = nullptr);

    void setRuns(const QVector<BenchmarkRun> &runs);
    // Whether any run measured perplexity (the view hides the column otherwise).
    bool hasPerplexity() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    struct Entry {
        int run = 0;
        int row = 0;
    };
    QVariant displayText(const BenchmarkRun &run, const awq::bench::BenchRow &row, int column) const;
    QVariant value(const BenchmarkRun &run, const awq::bench::BenchRow &row, int column) const;
    QVariant toolTip(const BenchmarkRun &run, const awq::bench::BenchRow &row, int column) const;

    QVector<BenchmarkRun> m_runs;
    QVector<Entry> m_entries;
};
