#pragma once
// Small helpers shared by the quantization wizard's code (pages, run page, worker): path
// conversions, human-readable sizes and times, status labels.

#include <exception>
#include <filesystem>
#include <utility>

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLabel>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QString>
#include <QTemporaryFile>

#include "awq/model/model_info.h"
#include "theme.h"

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
    Theme::setTone(label, error ? Theme::Tone::Error : Theme::Tone::Normal);
}

inline QLabel *makeStatusLabel(const QString &objectName, QWidget *parent)
{
    auto *label = new QLabel(parent);
    label->setObjectName(objectName);
    label->setWordWrap(true);
    label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    return label;
}

// An engine or parser message as a GUI user reads it: the command-line option names the
// engine's messages mention become the wizard's field names, and nlohmann/json's
// "[json.exception.parse_error.101] " prefix goes.
inline QString userMessage(QString message)
{
    static const QRegularExpression jsonPrefix(QStringLiteral("\\[json\\.exception\\.[a-z_]+\\.\\d+\\]\\s*"));
    message.remove(jsonPrefix);
    static const std::pair<const char *, const char *> words[] = {
        {"(choose the text field with --calib-field)", "(choose the text field in \"JSON field\")"},
        {"with --fake-quant (or --export-compatible)", "with Output: Fake-quant (or Export-compatible)"},
        {"--fake-quant (or --export-compatible)", "Output: Fake-quant (or Export-compatible)"},
        {"--export-compatible writes AWQ-scaled weights; it needs --method awq",
         "Output: Export-compatible writes AWQ-scaled weights; it needs the AWQ method"},
        {" (the wizard's Advanced options; awq quantize --no-memory-check)", " (Advanced options)"},
        {"no output folder given (--out DIR)", "no output folder chosen"},
        {"a smaller --seq-len", "a shorter block length"},
        {"a shorter window (--seqlen)", "a shorter window"},
        {"--w-bit", "Bits"},
        {"--group-size", "Group size"},
        {"--version must be gemm or gemv", "Packing must be GEMM or GEMV"},
        {"--max-search-tokens", "Search tokens"},
        {"--n-samples", "Samples"},
        {"--seq-len", "Block length"},
        {"--calib-field", "JSON field"},
        {": required field 'schema' is missing", ": not an AWQ Studio benchmark report (it has no 'schema' field)"},
    };
    for (const auto &[cli, gui] : words)
        message.replace(QString::fromUtf8(cli), QString::fromUtf8(gui));
    return message;
}

inline QString userMessage(const std::exception &error)
{
    return userMessage(QString::fromStdString(error.what()));
}

// Whether files can be created in `folder` or, when it does not exist yet, in the nearest
// folder above it that does (where it would be created). Probes with a temporary file, so
// that read-only mounts and permissions are both caught.
inline bool canCreateIn(const QString &folder)
{
    QString existing = QDir::cleanPath(QFileInfo(folder).absoluteFilePath());
    while (!QFileInfo(existing).exists()) {
        const QString parent = QFileInfo(existing).absolutePath();
        if (parent == existing)
            return false;
        existing = parent;
    }
    if (!QFileInfo(existing).isDir())
        return false;
    QTemporaryFile probe(existing + QStringLiteral("/.awq-write-check-XXXXXX"));
    return probe.open();
}

// Where a new model made from `modelFolder` goes by default: beside it when that folder is
// writable, else (the bundled demo model in a read-only data folder, a model on a read-only
// share) in "AWQ Studio" under the user's documents folder.
inline QString defaultOutputParent(const QString &modelFolder)
{
    const QString beside = QFileInfo(modelFolder).absolutePath();
    if (canCreateIn(beside) && QFileInfo(beside).isDir())
        return beside;
    QString documents = QStandardPaths::writableLocation(QStandardPaths::DocumentsLocation);
    if (documents.isEmpty())
        documents = QDir::homePath();
    return documents + QStringLiteral("/AWQ Studio");
}

} // namespace quantui
