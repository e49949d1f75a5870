#pragma once
// BenchmarkWorker runs the model benchmark (awq::bench::runBenchmark) and, when asked, the
// perplexity of each build on a held-out text, on the thread it lives on; it reports
// through signals only and never touches widgets. BenchmarkController is the GUI-thread
// side: it owns the worker's QThread, starts runs with queued calls and cancels them
// through a thread-safe awq::CancelToken. Connect to the controller's signals (queued from
// the worker thread).

#include <QObject>
#include <QString>
#include <QThread>

#include "awq/core/cancel.h"
#include "benchmarkresults.h"

// What to run: the runner's plan, and the optional quality measurement.
struct BenchmarkRequest {
    awq::bench::BenchPlan plan;
    // Perplexity of every build of a model folder on `perplexityText` (a UTF-8 text file):
    // windows of min(perplexitySeqLen, the model's context) tokens, at most
    // perplexityMaxWindows of them, so that it stays cheap.
    bool measurePerplexity = false;
    QString perplexityText;
    qint64 perplexitySeqLen = 128;
    qint64 perplexityMaxWindows = 16;
};
Q_DECLARE_METATYPE(BenchmarkRequest)

class BenchmarkWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BenchmarkWorker)

public:
    explicit BenchmarkWorker(QObject *parent = nullptr);

    // Runs on the worker's thread and never throws; emits exactly one of finished() /
    // failed() / cancelled().
    void run(const BenchmarkRequest &request, const awq::CancelToken &cancel);

Q_SIGNALS:
    // fraction: 0..1 of the whole run; status: what runs now ("GEMV batch 1, prefill 32:
    // run 2/3").
    void progress(double fraction, const QString &status);
    void finished(const awq::bench::BenchReport &report);
    void failed(const QString &message);
    void cancelled();
};

class BenchmarkController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(BenchmarkController)

public:
    explicit BenchmarkController(QObject *parent = nullptr);
    // Cancels a run in flight and waits for the engine to stop (it polls the token between
    // forwards).
    ~BenchmarkController() override;

    bool isRunning() const { return m_running; }
    // Starts a run; ignored while one is running.
    void start(const BenchmarkRequest &request);
    // Asks the run in flight to stop; cancelled() follows once the engine has stopped.
    void cancel();

Q_SIGNALS:
    void progress(double fraction, const QString &status);
    void finished(const awq::bench::BenchReport &report);
    void failed(const QString &message);
    void cancelled();

private:
    QThread m_thread;
    BenchmarkWorker *m_worker = nullptr; // lives on m_thread, deleted when it finishes
    awq::CancelToken m_cancel;
    bool m_running = false;
};
