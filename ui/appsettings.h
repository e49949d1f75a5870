#pragma once
// Where AWQ Studio keeps what it remembers (QSettings: ~/.config/AWQ Studio/awq-studio.conf
// on Linux). Every reader and writer names the same organization and application, so the
// settings are shared whether or not QCoreApplication's names were set (tests do not).

#include <QString>

namespace AppSettings {

inline QString organization()
{
    return QStringLiteral("AWQ Studio");
}

inline QString application()
{
    return QStringLiteral("awq-studio");
}

} // namespace AppSettings
