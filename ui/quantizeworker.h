#pragma once
// QuantizeWorker runs awq::quantizeModel (and calibration checks) on the thread it lives
// on and reports through signals only; it never touches widgets. QuantizeController is
// the GUI-thread side: it owns the worker's QThread, starts jobs with queued calls and
// cancels them through a thread-safe awq::CancelToken. Connect to the controller's
// signals (queued from the worker thread).

#include <QObject>
#include <QString>
#include <QStringList>
#include <QThread>

#include "awq/core/cancel.h"
#include "awq/quant/quant_options.h"

// The outcome of a successful run, as plain Qt types.
struct QuantizeSummary {
    QString outputFolder;
    qint64 layers = 0;
    qint64 calibrationBlocks = 0;
    qint64 calibrationTokens = 0;
    double seconds = 0;
    double calibrationSeconds = 0;
    double searchSeconds = 0;
    double writeSeconds = 0;
    quint64 peakRssBytes = 0;
    quint64 outputBytes = 0;
};
Q_DECLARE_METATYPE(QuantizeSummary)

class QuantizeWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QuantizeWorker)

public:
    explicit QuantizeWorker(QObject *parent = nullptr);

    // Both run on the worker's thread and never throw. run() emits exactly one of
    // finished() / failed() / cancelled(); checkCalibration() one of calibrationChecked()
    // / calibrationFailed().
    void run(const awq::QuantOptions &options, const awq::CancelToken &cancel);
    void checkCalibration(const QString &modelFolder, const awq::CalibrationOptions &options, quint64 checkId);
    // Perplexity of the original and the quantized model on the bundled held-out text (at
    // most kPerplexityWindows windows); emits perplexityMeasured() or perplexityFailed().
    void comparePerplexity(const QString &original, const QString &quantized, const awq::CancelToken &cancel);

    static constexpr int kPerplexityWindows = 32;

Q_SIGNALS:
    void progress(const QString &phase, qint64 layer, qint64 layers, const QString &detail, double fraction,
                  double etaSeconds, quint64 rssBytes, quint64 peakRssBytes);
    void groupLoss(qint64 layer, const QString &group, double rtnLoss, double awqLoss);
    void finished(const QuantizeSummary &summary);
    void failed(const QString &message);
    void cancelled();
    // preview: the first records as read (each cut to a few hundred characters).
    void calibrationChecked(quint64 checkId, qint64 blocks, qint64 tokens, qint64 recordsUsed,
                            qint64 recordsSkipped, const QString &description, const QStringList &preview);
    void calibrationFailed(quint64 checkId, const QString &message);
    void perplexityProgress(const QString &which, qint64 done, qint64 total);
    void perplexityMeasured(double original, double quantized, qint64 windows, qint64 seqLen);
    void perplexityFailed(const QString &message);
};

class QuantizeController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QuantizeController)

public:
    explicit QuantizeController(QObject *parent = nullptr);
    // Cancels a run in flight and waits for the engine to stop (it polls the token
    // between steps and removes its temporary folder).
    ~QuantizeController() override;

    bool isRunning() const { return m_running; }
    // Starts a run; ignored while one is running.
    void start(const awq::QuantOptions &options);
    // Asks the run in flight to stop; cancelled() follows once the engine has cleaned up.
    void cancel();
    // Builds the calibration blocks for `modelFolder`'s tokenizer on the worker thread;
    // returns the id carried by the result (a later check supersedes earlier ones).
    quint64 checkCalibration(const QString &modelFolder, const awq::CalibrationOptions &options);
    // Measures the perplexity of `original` and `quantized` (ignored while a run or a
    // measurement is in flight); cancel() stops it.
    void comparePerplexity(const QString &original, const QString &quantized);
    bool isMeasuring() const { return m_measuring; }

Q_SIGNALS:
    void progress(const QString &phase, qint64 layer, qint64 layers, const QString &detail, double fraction,
                  double etaSeconds, quint64 rssBytes, quint64 peakRssBytes);
    void groupLoss(qint64 layer, const QString &group, double rtnLoss, double awqLoss);
    void finished(const QuantizeSummary &summary);
    void failed(const QString &message);
    void cancelled();
    void calibrationChecked(qint64 blocks, qint64 tokens, qint64 recordsUsed, qint64 recordsSkipped,
                            const QString &description, const QStringList &preview);
    void calibrationFailed(const QString &message);
    void perplexityProgress(const QString &which, qint64 done, qint64 total);
    void perplexityMeasured(double original, double quantized, qint64 windows, qint64 seqLen);
    void perplexityFailed(const QString &message);

private:
    QThread m_thread;
    QuantizeWorker *m_worker = nullptr; // lives on m_thread, deleted when it finishes
    awq::CancelToken m_cancel;
    bool m_running = false;
    bool m_measuring = false;
    quint64 m_checkId = 0;
};
