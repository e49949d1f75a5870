#include "resourcepaths.h"

#include <QDir>
#include <QFileInfo>

#include "awq/runtime/resources.h"

namespace ResourcePaths {

QStringList dataDirectories()
{
    QStringList dirs;
    for (const auto &dir : awq::dataDirectories())
        dirs << QDir::cleanPath(QString::fromStdString(dir.string()));
    dirs.removeDuplicates();
    return dirs;
}

QString findData(const QString &relativePath)
{
    const auto found = awq::findData(relativePath.toStdString());
    return found.empty() ? QString() : QDir::cleanPath(QString::fromStdString(found.string()));
}

QString demoModelFolder()
{
    const QString folder = findData(QString::fromLatin1(awq::kDemoModelPath));
    return QFileInfo(folder).isDir() ? folder : QString();
}

} // namespace ResourcePaths
