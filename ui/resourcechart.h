#pragma once
// ResourceChart: memory over time from ResourceMonitor samples — this process's resident
// set, the machine's memory in use, and the GPUs' memory in use when there are any — as
// lines in GiB against seconds. Used on the quantization run page and in the memory
// window the status bar's monitor opens. GUI thread only.

#include <QVector>
#include <QtCharts/QChartView>

#include "resourcemonitor.h"

class QLineSeries;
class QValueAxis;

class ResourceChart final : public QChartView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ResourceChart)

public:
    explicit ResourceChart(QWidget *parent = nullptr);

    void clear();
    void setHistory(const QVector<ResourceSample> &samples);
    // Times are taken relative to the first sample after clear().
    void addSample(const ResourceSample &sample);
    int sampleCount() const;

private:
    void rescale();

    QLineSeries *m_process = nullptr;
    QLineSeries *m_system = nullptr;
    QLineSeries *m_gpu = nullptr; // attached once a sample has GPU memory
    QValueAxis *m_x = nullptr;
    QValueAxis *m_y = nullptr;
    qint64 m_originMs = -1;
    double m_maxGiB = 0;
    quint64 m_systemTotal = 0;
};
