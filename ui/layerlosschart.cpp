#include "layerlosschart.h"

#include <algorithm>
#include <cmath>

#include <QtCharts/QChart>
#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QValueAxis>

LayerLossChart::LayerLossChart(QWidget *parent) : QChartView(parent)
{
    setObjectName(QStringLiteral("layerLossChart"));
    auto *chart = new QChart;
    chart->setTitle(tr("Output error per layer (sum over its groups)"));
    m_rtn = new QLineSeries(chart);
    m_rtn->setName(tr("RTN"));
    m_awq = new QLineSeries(chart);
    m_awq->setName(tr("AWQ"));
    chart->addSeries(m_rtn);
    chart->addSeries(m_awq);
    m_x = new QValueAxis(chart);
    m_x->setTitleText(tr("layer"));
    m_x->setLabelFormat(QStringLiteral("%d"));
    m_y = new QLogValueAxis(chart);
    m_y->setTitleText(tr("MSE"));
    m_y->setLabelFormat(QStringLiteral("%.0e"));
    chart->addAxis(m_x, Qt::AlignBottom);
    chart->addAxis(m_y, Qt::AlignLeft);
    for (QLineSeries *s : {m_rtn, m_awq}) {
        s->setPointsVisible(true);
        s->attachAxis(m_x);
        s->attachAxis(m_y);
    }
    chart->legend()->setAlignment(Qt::AlignBottom);
    setChart(chart);
    setRenderHint(QPainter::Antialiasing);
    setMinimumHeight(180);
    rescale();
}

void LayerLossChart::clear()
{
    m_rtn->clear();
    m_awq->clear();
    rescale();
}

void LayerLossChart::setPoint(QLineSeries *series, qint64 layer, double value)
{
    const double x = static_cast<double>(layer + 1);
    const int n = series->count();
    if (n > 0 && series->at(n - 1).x() == x)
        series->replace(n - 1, x, series->at(n - 1).y() + value);
    else
        series->append(x, value);
}

void LayerLossChart::addGroupLoss(qint64 layer, double rtnLoss, double awqLoss)
{
    // A log axis cannot show zero; such a group adds nothing visible anyway.
    setPoint(m_rtn, layer, std::max(rtnLoss, 0.0));
    setPoint(m_awq, layer, std::max(awqLoss, 0.0));
    rescale();
}

int LayerLossChart::layerCount() const
{
    return m_rtn->count();
}

QPointF LayerLossChart::layerLoss(qint64 layer) const
{
    for (int i = 0; i < m_rtn->count(); ++i)
        if (m_rtn->at(i).x() == static_cast<double>(layer + 1))
            return {m_rtn->at(i).y(), m_awq->at(i).y()};
    return {};
}

void LayerLossChart::rescale()
{
    double lo = 0, hi = 0;
    int layers = 1;
    for (QLineSeries *s : {m_rtn, m_awq})
        for (int i = 0; i < s->count(); ++i) {
            const double y = s->at(i).y();
            if (y > 0) {
                lo = lo > 0 ? std::min(lo, y) : y;
                hi = std::max(hi, y);
            }
            layers = std::max(layers, static_cast<int>(s->at(i).x()));
        }
    m_x->setRange(1, std::max(2, layers));
    m_x->setTickCount(std::min(std::max(2, layers), 12));
    if (hi > 0)
        m_y->setRange(std::pow(10.0, std::floor(std::log10(lo))), std::pow(10.0, std::ceil(std::log10(hi))));
    else
        m_y->setRange(1e-6, 1.0);
}
