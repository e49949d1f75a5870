#pragma once
// Small helpers shared by the quantization wizard's code (pages, run page, worker): path
// conversions, human-readable sizes and times, status labels.

#include <filesystem>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QString>

#include "awq/model/model_info.h"

namespace quantui {
inline std::filesystem::path toPath(const QString &path)
{
    return std::filesystem::path(QFile::encodeName(path).toStdString());
}

inline QString fromPath(const std::filesystem::path &path)
{
    return QFile::decodeName(QByteArray::fromStdString(path.string()));
}

inline QString bytesText(quint64 bytes)
{
    return QString::fromStdString(awq::formatBytes(bytes));
}

inline QString absoluteClean(const QString &path)
{
    return path.trimmed().isEmpty() ? QString() : QDir::cleanPath(QFileInfo(path.trimmed()).absoluteFilePath());
}

inline QString durationText(double seconds)
{
    const qint64 s = qint64(seconds + 0.5);
    if (s < 60)
        return QObject::tr("%1 s").arg(s);
    if (s < 3600)
        return QObject::tr("%1 min %2 s").arg(s / 60).arg(s % 60);
    return QObject::tr("%1 h %2 min").arg(s / 3600).arg((s % 3600) / 60);
}

inline void setStatus(QLabel *label, const QString &text, bool error)
{
    label->setText(text);
    label->setProperty("error", error);
    label->setStyleSheet(error ? QStringLiteral("color: #b00020;") : QString());
}

inline QLabel *makeStatusLabel(const QString &objectName, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setObjectName(objectName);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

} // namespace quantui
