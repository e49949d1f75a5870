#pragma once
// Qt face of the engine's data-folder rule (awq/runtime/resources.h): where AWQ
// Studio's bundled data (the demo model, calibration and evaluation texts) is found.

#include <QString>
#include <QStringList>

namespace ResourcePaths {

// The data folders searched, in order, whether or not they exist:
//   1. $AWQ_STUDIO_DATA
//   2. <exe dir>/../share/awq-studio     (a relocated install)
//   3. AWQ_INSTALL_DATADIR                (the configured install prefix)
//   4. AWQ_SOURCE_DIR/resources           (running from the build tree)
QStringList dataDirectories();

// The first <data dir>/<relativePath> that exists, or an empty string.
QString findData(const QString &relativePath);

// The bundled demo model folder (models/demo-llama), or an empty string.
QString demoModelFolder();

} // namespace ResourcePaths
