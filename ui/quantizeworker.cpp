#include "quantizeworker.h"

#include <exception>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <QFile>
#include <QMetaObject>

#include "awq/core/error.h"
#include "awq/eval/perplexity.h"
#include "awq/runtime/resources.h"
#include "awq/quant/calibration_check.h"
#include "awq/quant/quantize_job.h"
#include "quantizepagehelpers.h"

using quantui::fromPath;
using quantui::toPath;

QuantizeWorker::QuantizeWorker(QObject *parent) : QObject(parent)
{
}

void QuantizeWorker::run(const awq::QuantOptions &options, const awq::CancelToken &cancel)
{
    // No exception may leave this function: it runs inside a queued call.
    try {
        const awq::QuantEventFn onEvent = [this](const awq::QuantEvent &event) {
            Q_EMIT progress(QString::fromUtf8(awq::phaseName(event.phase)), event.layer, event.layers,
                            QString::fromStdString(event.detail), event.fraction, event.etaSeconds,
                            event.rssBytes, event.peakRssBytes);
            if (const awq::GroupLoss *g = event.groupLoss) {
                QString group = QString::fromStdString(g->group);
                if (g->experts > 0 || g->unusedExperts > 0) // each expert's own group, summarised
                    group += g->unusedExperts == 0
                                 ? tr(" (%n experts)", nullptr, int(g->experts))
                                 : tr(" (%1 experts; %2 received no calibration token and were rounded to nearest)")
                                       .arg(g->experts)
                                       .arg(g->unusedExperts);
                Q_EMIT groupLoss(g->layer, group, g->rtnLoss, g->awqLoss);
            }
        };
        const awq::QuantizeReport report = awq::quantizeModel(options, onEvent, cancel);
        QuantizeSummary summary;
        summary.outputFolder = fromPath(report.outputFolder);
        summary.layers = report.layers;
        summary.calibrationBlocks = report.calibrationBlocks;
        summary.calibrationTokens = report.calibrationTokens;
        summary.seconds = report.seconds;
        summary.calibrationSeconds = report.calibrationSeconds;
        summary.searchSeconds = report.searchSeconds;
        summary.writeSeconds = report.writeSeconds;
        summary.peakRssBytes = report.peakRssBytes;
        summary.outputBytes = report.outputBytes;
        Q_EMIT finished(summary);
    } catch (const awq::Error &error) {
        if (error.code() == awq::ErrorCode::Cancelled)
            Q_EMIT cancelled();
        else
            Q_EMIT failed(QString::fromStdString(error.what()));
    } catch (const std::exception &error) {
        Q_EMIT failed(tr("Internal error: %1").arg(QString::fromStdString(error.what())));
    } catch (...) {
        Q_EMIT failed(tr("Internal error while quantizing"));
    }
}

void QuantizeWorker::checkCalibration(const QString &modelFolder, const awq::CalibrationOptions &options,
                                      quint64 checkId)
{
    try {
        const awq::CalibrationCheck check = awq::checkCalibration(toPath(modelFolder), options);
        QStringList preview;
        for (const std::string &text : check.preview)
            preview << QString::fromStdString(text);
        Q_EMIT calibrationChecked(checkId, check.blocks, check.tokens, check.recordsUsed, check.recordsSkipped,
                                  QString::fromStdString(check.source), preview);
    } catch (const std::exception &error) {
        Q_EMIT calibrationFailed(checkId, QString::fromStdString(error.what()));
    } catch (...) {
        Q_EMIT calibrationFailed(checkId, tr("Internal error while building the calibration data"));
    }
}

void QuantizeWorker::comparePerplexity(const QString &original, const QString &quantized,
                                       const awq::CancelToken &cancel)
{
    try {
        const std::filesystem::path text = awq::findData(awq::kHeldOutTextPath);
        AWQ_CHECK(!text.empty(), NotFound, "the held-out text ", awq::kHeldOutTextPath, " is not installed");
        std::ifstream in(text, std::ios::binary);
        std::ostringstream content;
        content << in.rdbuf();
        double results[2] = {0, 0};
        qint64 windows = 0, seqLen = 0;
        const QString folders[2] = {original, quantized};
        const QString names[2] = {tr("original"), tr("quantized")};
        for (int i = 0; i < 2; ++i) {
            const QString name = names[i];
            const awq::PerplexityResult r = awq::folderPerplexity(
                toPath(folders[i]), content.str(), 512, kPerplexityWindows,
                [this, name](const awq::Progress &p) { Q_EMIT perplexityProgress(name, p.done, p.total); }, cancel);
            results[i] = r.perplexity;
            windows = r.windows;
            seqLen = r.seqLen;
        }
        Q_EMIT perplexityMeasured(results[0], results[1], windows, seqLen);
    } catch (const std::exception &error) {
        Q_EMIT perplexityFailed(QString::fromStdString(error.what()));
    } catch (...) {
        Q_EMIT perplexityFailed(tr("Internal error while measuring perplexity"));
    }
}

QuantizeController::QuantizeController(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<QuantizeSummary>();

    m_thread.setObjectName(QStringLiteral("awq-quantize"));
    m_worker = new QuantizeWorker; // parentless: it moves to m_thread
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);

    connect(m_worker, &QuantizeWorker::progress, this, &QuantizeController::progress, Qt::QueuedConnection);
    connect(m_worker, &QuantizeWorker::groupLoss, this, &QuantizeController::groupLoss, Qt::QueuedConnection);
    connect(
        m_worker, &QuantizeWorker::finished, this,
        [this](const QuantizeSummary &summary) {
            m_running = false;
            Q_EMIT finished(summary);
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &QuantizeWorker::failed, this,
        [this](const QString &message) {
            m_running = false;
            Q_EMIT failed(message);
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &QuantizeWorker::cancelled, this,
        [this] {
            m_running = false;
            Q_EMIT cancelled();
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &QuantizeWorker::calibrationChecked, this,
        [this](quint64 id, qint64 blocks, qint64 tokens, qint64 used, qint64 skipped, const QString &description,
               const QStringList &preview) {
            if (id == m_checkId)
                Q_EMIT calibrationChecked(blocks, tokens, used, skipped, description, preview);
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &QuantizeWorker::calibrationFailed, this,
        [this](quint64 id, const QString &message) {
            if (id == m_checkId)
                Q_EMIT calibrationFailed(message);
        },
        Qt::QueuedConnection);
    connect(m_worker, &QuantizeWorker::perplexityProgress, this, &QuantizeController::perplexityProgress,
            Qt::QueuedConnection);
    connect(
        m_worker, &QuantizeWorker::perplexityMeasured, this,
        [this](double original, double quantized, qint64 windows, qint64 seqLen) {
            m_measuring = false;
            Q_EMIT perplexityMeasured(original, quantized, windows, seqLen);
        },
        Qt::QueuedConnection);
    connect(
        m_worker, &QuantizeWorker::perplexityFailed, this,
        [this](const QString &message) {
            m_measuring = false;
            Q_EMIT perplexityFailed(message);
        },
        Qt::QueuedConnection);
    m_thread.start();
}

QuantizeController::~QuantizeController()
{
    m_cancel.cancel();
    m_thread.quit();
    m_thread.wait();
}

void QuantizeController::start(const awq::QuantOptions &options)
{
    if (m_running)
        return;
    m_running = true;
    m_cancel = awq::CancelToken(); // a fresh token per run
    QuantizeWorker *worker = m_worker;
    const awq::CancelToken token = m_cancel;
    QMetaObject::invokeMethod(
        worker, [worker, options, token] { worker->run(options, token); }, Qt::QueuedConnection);
}

void QuantizeController::cancel()
{
    if (m_running || m_measuring)
        m_cancel.cancel();
}

void QuantizeController::comparePerplexity(const QString &original, const QString &quantized)
{
    if (m_running || m_measuring)
        return;
    m_measuring = true;
    m_cancel = awq::CancelToken();
    QuantizeWorker *worker = m_worker;
    const awq::CancelToken token = m_cancel;
    QMetaObject::invokeMethod(
        worker, [worker, original, quantized, token] { worker->comparePerplexity(original, quantized, token); },
        Qt::QueuedConnection);
}

quint64 QuantizeController::checkCalibration(const QString &modelFolder, const awq::CalibrationOptions &options)
{
    const quint64 id = ++m_checkId;
    QuantizeWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker, modelFolder, options, id] { worker->checkCalibration(modelFolder, options, id); },
        Qt::QueuedConnection);
    return id;
}
