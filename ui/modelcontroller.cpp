#include "modelcontroller.h"

#include <QDir>
#include <QFileInfo>
#include <QMetaObject>

#include "modelloadworker.h"

ModelController::ModelController(QObject *parent) : QObject(parent)
{
    qRegisterMetaType<awq::ModelInfo>();

    m_thread.setObjectName(QStringLiteral("awq-model-load"));
    m_worker = new ModelLoadWorker; // parentless: it moves to m_thread
    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(m_worker, &ModelLoadWorker::inspected, this, &ModelController::handleInspected,
            Qt::QueuedConnection);
    connect(m_worker, &ModelLoadWorker::failed, this, &ModelController::handleFailed, Qt::QueuedConnection);
    m_thread.start();
}

ModelController::~ModelController()
{
    m_thread.quit();
    m_thread.wait();
}

quint64 ModelController::openModel(const QString &folder)
{
    const QString absolute = folder.isEmpty() ? folder : QDir::cleanPath(QFileInfo(folder).absoluteFilePath());
    const quint64 jobId = ++m_currentJob;
    m_folder = absolute;
    m_info.reset();
    m_timer.start();
    setBusy(true);
    Q_EMIT inspectionStarted(absolute);
    // The functor runs on m_worker's thread (its context object).
    ModelLoadWorker *worker = m_worker;
    QMetaObject::invokeMethod(
        worker, [worker, absolute, jobId] { worker->inspect(absolute, jobId); }, Qt::QueuedConnection);
    return jobId;
}

void ModelController::handleInspected(quint64 jobId, const awq::ModelInfo &info)
{
    if (jobId != m_currentJob)
        return; // superseded by a later request
    m_info = info;
    setBusy(false);
    Q_EMIT modelInspected(info, m_timer.elapsed());
}

void ModelController::handleFailed(quint64 jobId, const QString &message)
{
    if (jobId != m_currentJob)
        return;
    setBusy(false);
    Q_EMIT inspectionFailed(m_folder, message);
}

void ModelController::setBusy(bool busy)
{
    if (m_busy == busy)
        return;
    m_busy = busy;
    Q_EMIT busyChanged(busy);
}
