#pragma once
// ModelLoadWorker: inspects a model folder (headers only, no weights) on the thread it
// lives on. Lives on ModelController's thread; never touches widgets. Results carry the
// job id they were asked with so that the controller can drop stale ones.

#include <QObject>
#include <QString>

#include "metatypes.h"

class ModelLoadWorker final : public QObject
{
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ModelLoadWorker)

public:
    explicit ModelLoadWorker(QObject *parent = nullptr);

public Q_SLOTS:
    // Runs awq::tryInspectModel(folder); emits exactly one of inspected() / failed().
    // Never throws.
    void inspect(const QString &folder, quint64 jobId);

Q_SIGNALS:
    void inspected(quint64 jobId, const awq::ModelInfo &info);
    void failed(quint64 jobId, const QString &message);
};
