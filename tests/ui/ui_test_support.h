#pragma once
// Shared by the offscreen UI tests: finding a named child widget, and saving a widget for
// docs/screenshots when scripts/screenshots.sh asks (AWQ_SCREENSHOT_DIR).

#include <QCoreApplication>
#include <QString>
#include <QWidget>
#include <QtGlobal>

namespace uitest {

// The child of `root` with objectName `name`; a test cannot go on without it (qFatal).
template <typename T>
T *child(QWidget *root, const char *name)
{
    T *w = root->findChild<T *>(QString::fromLatin1(name));
    if (!w)
        qFatal("no child %s", name);
    return w;
}

// With AWQ_SCREENSHOT_DIR set, saves the widget as <dir>/<name>.png (docs/screenshots).
inline void snap(QWidget &widget, const char *name)
{
    const QString dir = qEnvironmentVariable("AWQ_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QCoreApplication::processEvents();
    widget.grab().save(dir + QLatin1Char('/') + QLatin1String(name) + QStringLiteral(".png"));
}

} // namespace uitest
