#include "jobindicator.h"

#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QMouseEvent>
#include <QProgressBar>

#include <algorithm>

JobIndicator::JobIndicator(QWidget *parent) : QWidget(parent)
{
    setObjectName(QStringLiteral("jobIndicator"));
    m_label = new QLabel;
    m_label->setObjectName(QStringLiteral("jobIndicatorLabel"));
    m_bar = new QProgressBar;
    m_bar->setObjectName(QStringLiteral("jobIndicatorProgress"));
    m_bar->setRange(0, 1000);
    m_bar->setTextVisible(false);
    m_bar->setFixedWidth(90);
    m_bar->setMaximumHeight(14);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 0, 4, 0);
    layout->addWidget(m_label);
    layout->addWidget(m_bar);
    setCursor(Qt::PointingHandCursor);
    setFocusPolicy(Qt::TabFocus);
    setVisible(false);
}

void JobIndicator::setJob(const QString &id, const QString &text, double fraction, std::function<void()> goTo)
{
    auto it = std::find_if(m_jobs.begin(), m_jobs.end(), [&](const Job &job) { return job.id == id; });
    if (it == m_jobs.end())
        it = m_jobs.insert(m_jobs.end(), Job{id, {}, -1, {}});
    it->text = text;
    it->fraction = fraction;
    it->goTo = std::move(goTo);
    refresh();
}

void JobIndicator::endJob(const QString &id)
{
    const auto it = std::remove_if(m_jobs.begin(), m_jobs.end(), [&](const Job &job) { return job.id == id; });
    if (it == m_jobs.end())
        return;
    m_jobs.erase(it, m_jobs.end());
    refresh();
}

bool JobIndicator::hasJob(const QString &id) const
{
    return std::any_of(m_jobs.begin(), m_jobs.end(), [&](const Job &job) { return job.id == id; });
}

QStringList JobIndicator::jobTexts() const
{
    QStringList texts;
    for (const Job &job : m_jobs)
        texts << job.text;
    return texts;
}

QString JobIndicator::text() const
{
    return m_line;
}

bool JobIndicator::activate()
{
    if (m_jobs.empty())
        return false;
    if (const std::function<void()> goTo = m_jobs.front().goTo) // a copy: going there may end the job
        goTo();
    return true;
}

void JobIndicator::mouseReleaseEvent(QMouseEvent *event)
{
    if (event->button() == Qt::LeftButton && rect().contains(event->position().toPoint()))
        activate();
    QWidget::mouseReleaseEvent(event);
}

void JobIndicator::keyPressEvent(QKeyEvent *event)
{
    if (event->key() == Qt::Key_Return || event->key() == Qt::Key_Enter || event->key() == Qt::Key_Space) {
        activate();
        return;
    }
    QWidget::keyPressEvent(event);
}

void JobIndicator::refresh()
{
    if (m_jobs.empty()) {
        m_line.clear();
        m_label->clear();
        setToolTip(QString());
        setVisible(false);
        return;
    }
    const Job &shown = m_jobs.front();
    QString line = shown.text;
    if (m_jobs.size() > 1)
        line += tr(" · +%1 more").arg(m_jobs.size() - 1);
    m_line = line;
    m_label->setText(m_label->fontMetrics().elidedText(line, Qt::ElideRight, kMaxTextWidth));
    if (shown.fraction < 0) {
        m_bar->setRange(0, 0); // busy: the length is not known yet
    } else {
        m_bar->setRange(0, 1000);
        m_bar->setValue(qRound(std::clamp(shown.fraction, 0.0, 1.0) * 1000));
    }
    setToolTip(jobTexts().join(QLatin1Char('\n')) + QLatin1Char('\n') + tr("Click to go to it."));
    setVisible(true);
}
