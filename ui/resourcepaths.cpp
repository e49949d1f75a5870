#include "resourcepaths.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace ResourcePaths {

QStringList dataDirectories()
{
    QStringList dirs;
    const QString fromEnv = qEnvironmentVariable("AWQ_STUDIO_DATA");
    if (!fromEnv.isEmpty())
        dirs << fromEnv;
    if (QCoreApplication::instance())
        dirs << QDir::cleanPath(QCoreApplication::applicationDirPath() + QStringLiteral("/../share/awq-studio"));
#ifdef AWQ_INSTALL_DATADIR
    dirs << QStringLiteral(AWQ_INSTALL_DATADIR);
#endif
#ifdef AWQ_SOURCE_DIR
    dirs << QStringLiteral(AWQ_SOURCE_DIR "/resources");
#endif
    dirs.removeDuplicates();
    return dirs;
}

QString findData(const QString &relativePath)
{
    for (const QString &dir : dataDirectories()) {
        const QFileInfo candidate(QDir(dir).filePath(relativePath));
        if (candidate.exists())
            return QDir::cleanPath(candidate.absoluteFilePath());
    }
    return {};
}

QString demoModelFolder()
{
    const QString folder = findData(QStringLiteral("models/demo-llama"));
    return QFileInfo(folder).isDir() ? folder : QString();
}

} // namespace ResourcePaths
