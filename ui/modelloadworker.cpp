#include "modelloadworker.h"

#include <filesystem>
#include <utility>

#include <QFile>

ModelLoadWorker::ModelLoadWorker(QObject *parent) : QObject(parent)
{
}

void ModelLoadWorker::inspect(const QString &folder, quint64 jobId)
{
    // Note: no exception may leave a slot (Qt treats it as undefined behaviour);
    // tryInspectModel converts engine errors and the catch-all handles anything else.
    try {
        const std::filesystem::path path(QFile::encodeName(folder).toStdString());
        awq::Result<awq::ModelInfo> result = awq::tryInspectModel(path);
        if (result.ok())
            Q_EMIT inspected(jobId, std::move(result).value());
        else
            Q_EMIT failed(jobId, QString::fromStdString(result.error().message));
    } catch (...) {
        Q_EMIT failed(jobId, tr("Internal error while inspecting %1").arg(folder));
    }
}
