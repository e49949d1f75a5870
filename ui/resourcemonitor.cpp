#include "resourcemonitor.h"

#include <QMouseEvent>

#include "awq/core/gpu_memory.h"
#include "awq/core/memory.h"
#include "awq/model/model_info.h"

namespace {
QString bytes(quint64 n)
{
    return QString::fromStdString(awq::formatBytes(n));
}
} // namespace

ResourceMonitor::ResourceMonitor(QWidget *parent, int intervalMs) : QLabel(parent)
{
    setObjectName(QStringLiteral("resourceMonitor"));
    setTextFormat(Qt::PlainText);
    m_clock.start();
    m_timer.setInterval(intervalMs);
    connect(&m_timer, &QTimer::timeout, this, &ResourceMonitor::takeSample);
    m_timer.start();
    takeSample();
}

ResourceSample ResourceMonitor::sampleNow(qint64 msSinceStart)
{
    const awq::SystemMemory system = awq::systemMemory();
    ResourceSample s{msSinceStart, awq::currentRssBytes(), awq::peakRssBytes(), system.totalBytes,
                     system.availableBytes};
    for (const awq::GpuMemory &gpu : awq::queryGpuMemory()) {
        s.gpuUsed += gpu.usedBytes;
        s.gpuTotal += gpu.totalBytes;
    }
    return s;
}

void ResourceMonitor::mousePressEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton)
        Q_EMIT clicked();
    QLabel::mousePressEvent(event);
}

void ResourceMonitor::takeSample()
{
    const ResourceSample s = sampleNow(m_clock.elapsed());
    if (m_history.size() >= HistoryLength)
        m_history.removeFirst();
    m_history.append(s);
    const quint64 used = s.systemTotal > s.systemAvailable ? s.systemTotal - s.systemAvailable : 0;
    // Short: it shares the status bar with the messages and the job indicator at 1024 px.
    QString text = tr("RAM %1, peak %2 · system %3 / %4")
                       .arg(bytes(s.processRss), bytes(s.processPeakRss), bytes(used), bytes(s.systemTotal));
    if (s.gpuTotal > 0)
        text += tr(" · VRAM %1 / %2").arg(bytes(s.gpuUsed), bytes(s.gpuTotal));
    setText(text);
    setToolTip(tr("RAM: resident memory of AWQ Studio and its peak; system: memory in use on the machine "
                  "(total minus available)%1. Sampled every %2 s. Click for the chart.")
                   .arg(s.gpuTotal > 0 ? tr("; memory in use on the GPUs") : QString())
                   .arg(m_timer.interval() / 1000.0));
    Q_EMIT sampled(s);
}
