#include "resourcechart.h"

#include <algorithm>
#include <cmath>

#include <QtCharts/QChart>
#include <QtCharts/QLineSeries>
#include <QtCharts/QValueAxis>

namespace {
constexpr double kGiB = 1024.0 * 1024.0 * 1024.0;
}

ResourceChart::ResourceChart(QWidget *parent) : QChartView(parent)
{
    setObjectName(QStringLiteral("resourceChart"));
    auto *chart = new QChart;
    chart->setTitle(tr("Memory"));
    m_process = new QLineSeries(chart);
    m_process->setName(tr("AWQ Studio (resident)"));
    m_system = new QLineSeries(chart);
    m_system->setName(tr("Machine in use"));
    m_gpu = new QLineSeries(chart);
    m_gpu->setName(tr("GPU in use"));
    m_x = new QValueAxis(chart);
    m_x->setTitleText(tr("seconds"));
    m_x->setLabelFormat(QStringLiteral("%d"));
    m_y = new QValueAxis(chart);
    m_y->setTitleText(tr("GiB"));
    m_y->setLabelFormat(QStringLiteral("%.1f"));
    chart->addAxis(m_x, Qt::AlignBottom);
    chart->addAxis(m_y, Qt::AlignLeft);
    for (QLineSeries *s : {m_process, m_system}) {
        chart->addSeries(s);
        s->attachAxis(m_x);
        s->attachAxis(m_y);
    }
    chart->legend()->setAlignment(Qt::AlignBottom);
    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(180);
    rescale();
}

int ResourceChart::sampleCount() const
{
    return m_process->count();
}

void ResourceChart::clear()
{
    m_process->clear();
    m_system->clear();
    m_gpu->clear();
    m_originMs = -1;
    m_maxGiB = 0;
    rescale();
}

void ResourceChart::setHistory(const QVector<ResourceSample> &samples)
{
    clear();
    for (const ResourceSample &s : samples)
        addSample(s);
}

void ResourceChart::addSample(const ResourceSample &s)
{
    if (m_originMs < 0)
        m_originMs = s.msSinceStart;
    const double t = double(s.msSinceStart - m_originMs) / 1000.0;
    const double process = double(s.processRss) / kGiB;
    const double system = double(s.systemTotal > s.systemAvailable ? s.systemTotal - s.systemAvailable : 0) / kGiB;
    m_process->append(t, process);
    m_system->append(t, system);
    m_maxGiB = std::max({m_maxGiB, process, system});
    m_systemTotal = s.systemTotal;
    if (s.gpuTotal > 0) {
        if (!chart()->series().contains(m_gpu)) {
            chart()->addSeries(m_gpu);
            m_gpu->attachAxis(m_x);
            m_gpu->attachAxis(m_y);
        }
        const double gpu = double(s.gpuUsed) / kGiB;
        m_gpu->append(t, gpu);
        m_maxGiB = std::max(m_maxGiB, gpu);
    }
    rescale();
}

void ResourceChart::rescale()
{
    const int n = m_process->count();
    const double last = n > 0 ? m_process->at(n - 1).x() : 0.0;
    m_x->setRange(0, std::max(10.0, std::ceil(last)));
    // Headroom above the highest line, in steps that give round labels.
    const double top = m_maxGiB <= 0 ? 1.0 : std::ceil(m_maxGiB * 1.15 * 4.0) / 4.0;
    m_y->setRange(0, top);
    chart()->setTitle(m_systemTotal > 0
                          ? tr("Memory (machine total %1 GiB)").arg(double(m_systemTotal) / kGiB, 0, 'f', 1)
                          : tr("Memory"));
}
