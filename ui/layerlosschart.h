#pragma once
// LayerLossChart: the quantization run's per-layer error as it happens — for every decoder
// layer the summed output MSE of its scaling groups with plain round-to-nearest (RTN) and
// with the AWQ scales, on a logarithmic axis. Fed from QuantizeController::groupLoss on the
// GUI thread.

#include <QtCharts/QChartView>

QT_BEGIN_NAMESPACE
class QLineSeries;
class QLogValueAxis;
class QValueAxis;
QT_END_NAMESPACE

class LayerLossChart final : public QChartView
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LayerLossChart)

public:
    explicit LayerLossChart(QWidget *parent = nullptr);

    void clear();
    // Adds one group's losses to layer `layer` (0-based).
    void addGroupLoss(qint64 layer, double rtnLoss, double awqLoss);
    int layerCount() const;
    // The summed losses of layer `layer` so far (RTN, AWQ).
    QPointF layerLoss(qint64 layer) const;

private:
    void setPoint(QLineSeries *series, qint64 layer, double value);
    void rescale();

    QLineSeries *m_rtn = nullptr;
    QLineSeries *m_awq = nullptr;
    QValueAxis *m_x = nullptr;
    QLogValueAxis *m_y = nullptr;
};
