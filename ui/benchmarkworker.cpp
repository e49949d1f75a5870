#include "benchmarkworker.h"

#include <algorithm>
#include <exception>
#include <string>
#include <vector>

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QMetaObject>


#include "awq/core/error.h"

namespace {

using awq::bench::Variant;

// The share of the progress bar the timed runs take when perplexity follows them.
constexpr double kBenchShareWithPerplexity = 0.75;

// Turns the engine's progress events into (fraction of the whole run, status line) and
// forwards them at most every 50 ms (the runner reports every warm-up and timed run).
class ProgressForwarder
{
public:
    ProgressForwarder(BenchmarkWorker *worker, const awq::bench::BenchPlan &plan, bool perplexity)
        : m_worker(worker), m_plan(plan), m_benchShare(perplexity ? kBenchShareWithPerplexity : 1.0)
    {
        m_timer.start();
    }

    // Events of runBenchmark: "build"/"load"/"convert" while a variant is made, "bench"
    // per timed row (done = rows finished).
    void onBenchEvent(const awq::Progress &p)
    {
        const bool building = p.stage != "bench";
        if (building && !m_lastStageBuilding && m_seenAny)
            ++m_variantIndex; // a new variant's build follows the previous one's rows
        m_seenAny = true;
        m_lastStageBuilding = building;
        if (p.stage == "bench") {
            m_fraction = p.total > 0 ? m_benchShare * static_cast<double>(p.done) / static_cast<double>(p.total) : 0;
            forward(QString::fromStdString(p.note), p.done == p.total);
            return;
        }
        const size_t index = std::min(m_variantIndex, m_plan.variants.size() - 1);
        const QString variant = BenchmarkResults::variantText(m_plan.variants[index]);
        forward(BenchmarkWorker::tr("Building %1 (%2 of %3): %4")
                    .arg(variant)
                    .arg(index + 1)
                    .arg(m_plan.variants.size())
                    .arg(QString::fromStdString(p.note)),
                false);
    }

    // Events of the perplexity pass of build `index`.
    void onPerplexityEvent(size_t index, const awq::Progress &p)
    {
        const double n = static_cast<double>(m_plan.variants.size());
        const double within = p.stage == "perplexity" && p.total > 0
                                  ? static_cast<double>(p.done) / static_cast<double>(p.total)
                                  : 0.0;
        m_fraction = m_benchShare + (1.0 - m_benchShare) * (static_cast<double>(index) + within) / n;
        forward(BenchmarkWorker::tr("Perplexity of %1 (%2 of %3): %4")
                    .arg(BenchmarkResults::variantText(m_plan.variants[index]))
                    .arg(index + 1)
                    .arg(m_plan.variants.size())
                    .arg(QString::fromStdString(p.note)),
                false);
    }

private:
    void forward(const QString &status, bool force)
    {
        if (status == m_lastStatus || (!force && m_timer.elapsed() < 50))
            return;
        m_timer.restart();
        m_lastStatus = status;
        Q_EMIT m_worker->progress(m_fraction, status);
    }

    BenchmarkWorker *m_worker;
    const awq::bench::BenchPlan &m_plan;
    double m_benchShare;
    double m_fraction = 0;
    size_t m_variantIndex = 0;
    bool m_seenAny = false;
    bool m_lastStageBuilding = false;
    QString m_lastStatus;
    QElapsedTimer m_timer;
};

// Puts LibTorch's thread count back as it was (the GUI shares the process).
std::string readText(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        awq::fail(awq::ErrorCode::NotFound, path.toStdString(), ": cannot be read (", file.errorString().toStdString(),
                  ")");
    return file.readAll().toStdString();
}

// Each build of the plan's model folder scored on the same leading windows of the text.
std::vector<awq::bench::VariantPerplexity> measurePerplexity(const BenchmarkRequest &request,
                                                             ProgressForwarder &forwarder,
                                                             const awq::CancelToken &cancel)
{
    const std::string text = readText(request.perplexityText);
    const std::string textName = QFileInfo(request.perplexityText).fileName().toStdString();
    return awq::bench::measureVariantPerplexity(
        request.plan, text, textName, request.perplexitySeqLen, request.perplexityMaxWindows,
        [&forwarder](size_t i, const awq::Progress &p) { forwarder.onPerplexityEvent(i, p); }, cancel);
}

} // namespace

BenchmarkWorker::BenchmarkWorker(QObject *parent) : QObject(parent)
{
}

void BenchmarkWorker::run(const BenchmarkRequest &request, const awq::CancelToken &cancel)
{
    // No exception may leave this function: it runs inside a queued call.
    try {
        const bool perplexity = request.measurePerplexity && request.plan.syntheticShape.empty();
        ProgressForwarder forwarder(this, request.plan, perplexity);
        Q_EMIT progress(0.0, tr("Starting…"));
        awq::bench::BenchReport report = awq::bench::runBenchmark(
            request.plan, [&forwarder](const awq::Progress &p) { forwarder.onBenchEvent(p); }, cancel);
        if (perplexity)
            report.perplexity = measurePerplexity(request, forwarder, cancel);
        Q_EMIT progress(1.0, tr("Done"));
        Q_EMIT finished(report);
    } catch (const awq::Error &error) {
        if (error.code() == awq::ErrorCode::Cancelled)
            Q_EMIT cancelled();
        else
            Q_EMIT failed(QString::fromStdString(error.what()));
    } catch (const std::exception &error) {
        Q_EMIT failed(tr("Internal error: %1").arg(QString::fromStdString(error.what())));
    } catch (...) {
        Q_EMIT failed(tr("Internal error while benchmarking"));
    }
}

BenchmarkController::BenchmarkController(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<BenchmarkRequest>();
    qRegisterMetaType<awq::bench::BenchReport>();

    m_thread.setObjectName(QStringLiteral("awq-benchmark"));
    m_worker = new BenchmarkWorker; // parentless: it moves to m_thread
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);

    connect(m_worker, &BenchmarkWorker::progress, this, &BenchmarkController::progress, Qt::QueuedConnection);
    connect(
        m_worker, &BenchmarkWorker::finished, this,
        [this](const awq::bench::BenchReport &report) {
            m_running = false;
            Q_EMIT finished(report);
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &BenchmarkWorker::failed, this,
        [this](const QString &message) {
            m_running = false;
            Q_EMIT failed(message);
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &BenchmarkWorker::cancelled, this,
        [this] {
            m_running = false;
            Q_EMIT cancelled();
        },
        Qt::QueuedConnection);
    m_thread.start();
}

BenchmarkController::~BenchmarkController()
{
    m_cancel.cancel();
    m_thread.quit();
    m_thread.wait();
}

void BenchmarkController::start(const BenchmarkRequest &request)
{
    if (m_running)
        return;
    m_running = true;
    m_cancel = awq::CancelToken(); // a fresh token per run
    BenchmarkWorker *worker = m_worker;
    const awq::CancelToken token = m_cancel;
    QMetaObject::invokeMethod(
        worker, [worker, request, token] { worker->run(request, token); }, Qt::QueuedConnection);
}

void BenchmarkController::cancel()
{
    if (m_running)
        m_cancel.cancel();
}
