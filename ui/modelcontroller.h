#pragma once
// ModelController: the GUI-thread side of model loading. Owns a QThread with a
// ModelLoadWorker on it, starts inspections there and forwards the results of the
// latest request only (older requests still running are dropped when they finish).
// Used from the GUI thread only.

#include <optional>

#include <QElapsedTimer>
#include <QObject>
#include <QString>
#include <QThread>

#include "metatypes.h"

class ModelLoadWorker;

class ModelController final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ModelController)

public:
    explicit ModelController(QObject *parent = nullptr);
    // Stops the thread and waits for an inspection in flight to finish (headers only,
    // so this is short); its result is discarded.
    ~ModelController() override;

    // Starts inspecting `folder` and returns the job id; a later call supersedes it.
    quint64 openModel(const QString &folder);

    bool isBusy() const { return m_busy; }
    // The folder of the latest request (absolute path), empty before the first.
    QString folder() const { return m_folder; }
    // The facts of the latest successful inspection of folder(), if any.
    const std::optional<awq::ModelInfo> &modelInfo() const { return m_info; }

Q_SIGNALS:
    void inspectionStarted(const QString &folder);
    void modelInspected(const awq::ModelInfo &info, qint64 elapsedMs);
    void inspectionFailed(const QString &folder, const QString &message);
    void busyChanged(bool busy);

private:
    void handleInspected(quint64 jobId, const awq::ModelInfo &info);
    void handleFailed(quint64 jobId, const QString &message);
    void setBusy(bool busy);

    QThread m_thread;
    ModelLoadWorker *m_worker = nullptr; // lives on m_thread, deleted when it finishes
    quint64 m_currentJob = 0;
    bool m_busy = false;
    QString m_folder;
    std::optional<awq::ModelInfo> m_info;
    QElapsedTimer m_timer;
};
