#include "resourcemonitor.h"

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
    return {msSinceStart, awq::currentRssBytes(), awq::peakRssBytes(), system.totalBytes, system.availableBytes};
}

void ResourceMonitor::takeSample()
{
    const ResourceSample s = sampleNow(m_clock.elapsed());
    if (m_history.size() >= HistoryLength)
        m_history.removeFirst();
    m_history.append(s);
    const quint64 used = s.systemTotal > s.systemAvailable ? s.systemTotal - s.systemAvailable : 0;
    setText(tr("RAM: AWQ Studio %1 (peak %2) · system %3 of %4")
                .arg(bytes(s.processRss), bytes(s.processPeakRss), bytes(used), bytes(s.systemTotal)));
    setToolTip(tr("Resident memory of this process and its peak; memory in use on the machine "
                  "(total minus available). Sampled every %1 s.")
                   .arg(m_timer.interval() / 1000.0));
    Q_EMIT sampled(s);
}
