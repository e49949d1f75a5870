#pragma once
// The application's colour theme: the platform's own palette, or light / dark palettes
// on the Fusion style (the same on every desktop). Widgets use palette roles, never fixed
// colours, so they follow whichever is applied. GUI thread only.

#include <QString>

namespace Theme {

enum class Kind { System, Light, Dark };

QString name(Kind kind);            // "system" | "light" | "dark" (persisted)
Kind fromName(const QString &name); // unknown names give System
// Applies `kind` to the running QApplication.
void apply(Kind kind);

} // namespace Theme
