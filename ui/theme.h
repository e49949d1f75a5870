#pragma once
// The application's colour theme: the platform's own palette, or light / dark palettes
// on the Fusion style (the same on every desktop). Widgets use palette roles, never fixed
// colours, so they follow whichever is applied. Where text needs a meaning's colour
// (an error, a warning, "fits"), Tone gives one readable on the palette in use, and
// setTone / setTonedText keep it readable when the theme changes at run time.
// GUI thread only.

#include <QColor>
#include <QString>

class QLabel;
class QPalette;
class QWidget;

namespace Theme {

enum class Kind { System, Light, Dark };

QString name(Kind kind);            // "system" | "light" | "dark" (persisted)
Kind fromName(const QString &name); // unknown names give System
// Applies `kind` to the running QApplication.
void apply(Kind kind);

// What a piece of text says, beyond its words.
enum class Tone { Normal, Error, Warning, Ok, Muted };

// The colour of `tone` on `palette`: Normal is its WindowText, Muted its PlaceholderText;
// Error (red), Warning (amber) and Ok (green) are darkened on a light window and lightened
// on a dark one until they reach a contrast of 4.5:1 (WCAG AA) with both Window and Base.
QColor toneColor(Tone tone, const QPalette &palette);
// WCAG 2 contrast ratio of two colours (1 to 21).
double contrastRatio(const QColor &a, const QColor &b);

// Shows `widget`'s text (its WindowText and Text roles) in `tone`, now and after every
// theme change; Tone::Normal gives it back the palette's own text colour.
void setTone(QWidget *widget, Tone tone);
// `html` wrapped in a span of `tone`'s colour, for setTonedText (the colour is filled in there).
QString toned(const QString &html, Tone tone);
// Sets `label`'s rich text with the colours of the toned() spans in it filled in from its
// palette, again after every theme change.
void setTonedText(QLabel *label, const QString &html);

} // namespace Theme
