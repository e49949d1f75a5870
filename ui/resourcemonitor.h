#pragma once
// ResourceMonitor: a compact, always-visible readout of memory — this process's resident
// set (and its peak), the machine's used/total RAM, and the GPUs' used/total memory when
// the NVIDIA driver is there (awq/core/gpu_memory.h, through NVML: no CUDA context) —
// sampled on a timer. Sampling reads /proc and NVML (microseconds), so it runs on the GUI
// thread without blocking it. Keeps a bounded history of samples for ResourceChart; a click
// asks for the detailed chart.

#include <QElapsedTimer>
#include <QLabel>
#include <QTimer>
#include <QVector>

struct ResourceSample {
    qint64 msSinceStart = 0;
    quint64 processRss = 0;
    quint64 processPeakRss = 0;
    quint64 systemTotal = 0;
    quint64 systemAvailable = 0;
    quint64 gpuUsed = 0;  // over every NVIDIA device; 0 and 0 when there is none
    quint64 gpuTotal = 0;
};

class ResourceMonitor final : public QLabel
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ResourceMonitor)

public:
    static constexpr int HistoryLength = 600; // 10 minutes at the default interval

    explicit ResourceMonitor(QWidget *parent = nullptr, int intervalMs = 1000);

    static ResourceSample sampleNow(qint64 msSinceStart = 0);
    const QVector<ResourceSample> &history() const { return m_history; }
    int intervalMs() const { return m_timer.interval(); }

Q_SIGNALS:
    void sampled(const ResourceSample &sample);
    void clicked();

protected:
    void mousePressEvent(QMouseEvent *event) override;

private:
    void takeSample();

    QTimer m_timer;
    QElapsedTimer m_clock;
    QVector<ResourceSample> m_history;
};
