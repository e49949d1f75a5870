#include "theme.h"

#include <QApplication>
#include <QEvent>
#include <QLabel>
#include <QPalette>
#include <QPointer>
#include <QStyle>
#include <QStyleFactory>

#include <algorithm>
#include <cmath>

namespace Theme {

namespace {

QPalette darkPalette()
{
    QPalette p;
    const QColor window(0x2b, 0x2d, 0x31), base(0x1f, 0x21, 0x24), text(0xe6, 0xe6, 0xe6);
    const QColor disabledText(0x80, 0x80, 0x80), highlight(0x3d, 0x7e, 0xd6);
    p.setColor(QPalette::Window, window);
    p.setColor(QPalette::WindowText, text);
    p.setColor(QPalette::Base, base);
    p.setColor(QPalette::AlternateBase, window);
    p.setColor(QPalette::ToolTipBase, base);
    p.setColor(QPalette::ToolTipText, text);
    p.setColor(QPalette::PlaceholderText, QColor(0x9a, 0x9a, 0x9a));
    p.setColor(QPalette::Text, text);
    p.setColor(QPalette::Button, window);
    p.setColor(QPalette::ButtonText, text);
    p.setColor(QPalette::BrightText, Qt::red);
    p.setColor(QPalette::Link, QColor(0x6c, 0xb0, 0xff));
    p.setColor(QPalette::Highlight, highlight);
    p.setColor(QPalette::HighlightedText, Qt::white);
    p.setColor(QPalette::Light, QColor(0x45, 0x47, 0x4c));
    p.setColor(QPalette::Midlight, QColor(0x3a, 0x3c, 0x40));
    p.setColor(QPalette::Mid, QColor(0x25, 0x27, 0x2a));
    p.setColor(QPalette::Dark, QColor(0x18, 0x19, 0x1b));
    p.setColor(QPalette::Shadow, Qt::black);
    for (auto role : {QPalette::WindowText, QPalette::Text, QPalette::ButtonText})
        p.setColor(QPalette::Disabled, role, disabledText);
    p.setColor(QPalette::Disabled, QPalette::Highlight, QColor(0x50, 0x50, 0x50));
    return p;
}

const char *const kToneProperty = "awqTone";           // int(Tone) given by setTone
const char *const kTonedTextProperty = "awqTonedText"; // the html given to setTonedText
const char *const kRenderedProperty = "awqTonedRendered"; // what setTonedText last showed
const char *const kWatchedProperty = "awqToneWatched";

struct ToneToken {
    Tone tone;
    const char *token;
};
// What toned() writes where setTonedText puts a colour.
constexpr ToneToken kTokens[] = {{Tone::Normal, "{awq-tone:normal}"},
                                 {Tone::Error, "{awq-tone:error}"},
                                 {Tone::Warning, "{awq-tone:warning}"},
                                 {Tone::Ok, "{awq-tone:ok}"},
                                 {Tone::Muted, "{awq-tone:muted}"}};

double relativeLuminance(const QColor &color)
{
    const auto linear = [](float c) { return c <= 0.04045f ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); };
    const QColor rgb = color.toRgb();
    return 0.2126 * linear(rgb.redF()) + 0.7152 * linear(rgb.greenF()) + 0.0722 * linear(rgb.blueF());
}

void applyTone(QWidget *widget)
{
    const QVariant tone = widget->property(kToneProperty);
    if (tone.isValid()) {
        if (tone.toInt() == int(Tone::Normal)) {
            widget->setPalette(QPalette()); // every role inherited again
        } else {
            const QColor color = toneColor(Tone(tone.toInt()), widget->palette());
            QPalette own;
            own.setColor(QPalette::WindowText, color);
            own.setColor(QPalette::Text, color);
            widget->setPalette(own); // the other roles stay inherited
        }
    }
    auto *label = qobject_cast<QLabel *>(widget);
    const QVariant html = widget->property(kTonedTextProperty);
    if (label && html.isValid()) {
        if (label->text() != label->property(kRenderedProperty).toString()) {
            // Its text was set since, without tones: that stays.
            label->setProperty(kTonedTextProperty, QVariant());
            return;
        }
        QString text = html.toString();
        for (const ToneToken &t : kTokens)
            text.replace(QLatin1String(t.token), toneColor(t.tone, label->palette()).name());
        label->setProperty(kRenderedProperty, text);
        if (label->text() != text)
            label->setText(text);
    }
}

// Applies the tones again when a widget's palette changes (a theme switch reaches every
// widget as a palette change). Setting the same palette again sends no event, so this settles.
class ToneKeeper final : public QObject
{
public:
    using QObject::QObject;

    static void watch(QWidget *widget)
    {
        static QPointer<ToneKeeper> keeper;
        if (!keeper)
            keeper = new ToneKeeper(qApp);
        if (!widget->property(kWatchedProperty).toBool()) {
            widget->setProperty(kWatchedProperty, true);
            widget->installEventFilter(keeper);
        }
    }

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() == QEvent::PaletteChange && watched->isWidgetType() && !m_applying) {
            m_applying = true;
            applyTone(static_cast<QWidget *>(watched));
            m_applying = false;
        }
        return QObject::eventFilter(watched, event);
    }

private:
    bool m_applying = false;
};

} // namespace

QColor toneColor(Tone tone, const QPalette &palette)
{
    float hue = 0, saturation = 0.75f;
    switch (tone) {
    case Tone::Normal: return palette.color(QPalette::WindowText);
    case Tone::Muted: return palette.color(QPalette::PlaceholderText);
    case Tone::Error: hue = 0.0f; break;
    case Tone::Warning: hue = 30.0f / 360.0f; break;
    case Tone::Ok: hue = 125.0f / 360.0f; saturation = 0.6f; break;
    }
    const QColor window = palette.color(QPalette::Window), base = palette.color(QPalette::Base);
    const bool dark = relativeLuminance(window) < 0.18; // mid grey: lighter text reads better on it
    for (int step = 0; step <= 30; ++step) {
        const float lightness = dark ? 0.6f + 0.0133f * float(step) : 0.4f - 0.0133f * float(step);
        const QColor color = QColor::fromHslF(hue, saturation, std::clamp(lightness, 0.0f, 1.0f));
        if (contrastRatio(color, window) >= 4.5 && contrastRatio(color, base) >= 4.5)
            return color;
    }
    return palette.color(QPalette::WindowText); // a palette no hue reads on: its own text colour
}

double contrastRatio(const QColor &a, const QColor &b)
{
    const double la = relativeLuminance(a), lb = relativeLuminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

void setTone(QWidget *widget, Tone tone)
{
    widget->setProperty(kToneProperty, int(tone));
    ToneKeeper::watch(widget);
    applyTone(widget);
}

QString toned(const QString &html, Tone tone)
{
    for (const ToneToken &t : kTokens)
        if (t.tone == tone)
            return QStringLiteral("<span style=\"color:%1\">%2</span>").arg(QLatin1String(t.token), html);
    return html;
}

void setTonedText(QLabel *label, const QString &html)
{
    label->setProperty(kTonedTextProperty, html);
    label->setProperty(kRenderedProperty, label->text()); // replaced now
    ToneKeeper::watch(label);
    applyTone(label);
}

QString name(Kind kind)
{
    switch (kind) {
    case Kind::Light: return QStringLiteral("light");
    case Kind::Dark: return QStringLiteral("dark");
    case Kind::System: break;
    }
    return QStringLiteral("system");
}

Kind fromName(const QString &name)
{
    if (name == QLatin1String("light"))
        return Kind::Light;
    if (name == QLatin1String("dark"))
        return Kind::Dark;
    return Kind::System;
}

void apply(Kind kind)
{
    // The platform's style and palette, remembered before the first change.
    static const QString systemStyle = QApplication::style()->name();
    static const QPalette systemPalette = QApplication::palette();
    switch (kind) {
    case Kind::System:
        QApplication::setStyle(QStyleFactory::create(systemStyle));
        QApplication::setPalette(systemPalette);
        break;
    case Kind::Light:
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(QApplication::style()->standardPalette());
        break;
    case Kind::Dark:
        QApplication::setStyle(QStyleFactory::create(QStringLiteral("Fusion")));
        QApplication::setPalette(darkPalette());
        break;
    }
}

} // namespace Theme
