// The application as it looks (issue 23), offscreen: text in an error colour (the Library's
// "could not open", the Benchmark page's refusals, the Chat page's "does not fit") is
// readable on the light and the dark theme, also after switching the theme at run time;
// and the main window fits a small screen (1024x640) on every page, with its status bar.
// What is checked is what is drawn: the colours come from the widgets' grabbed pixels.

#include <QAction>
#include <QCheckBox>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QScreen>
#include <QScrollArea>
#include <QSplitter>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

#include "appsettings.h"
#include "chatpage.h"
#include "chatsessionwidget.h"
#include "mainwindow.h"
#include "quantizewizard.h"
#include "resourcepaths.h"
#include "ui_test_support.h"

namespace {

using uitest::child;
using uitest::snap;

double luminance(const QColor &color)
{
    const auto linear = [](double c) { return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4); };
    return 0.2126 * linear(color.redF()) + 0.7152 * linear(color.greenF()) + 0.0722 * linear(color.blueF());
}

// WCAG 2 contrast ratio (1 to 21): 4.5 is the least for normal text.
double contrast(const QColor &a, const QColor &b)
{
    const double la = luminance(a), lb = luminance(b);
    return (std::max(la, lb) + 0.05) / (std::min(la, lb) + 0.05);
}

// The best contrast against `widget`'s background (its commonest colour) among its red
// pixels: the glyphs of error text (the cores of the strokes have the text colour itself).
// 0 when nothing red is drawn.
double redTextContrast(QWidget *widget)
{
    QCoreApplication::processEvents();
    const QImage image = widget->grab().toImage().convertToFormat(QImage::Format_RGB32);
    QHash<QRgb, int> counts;
    for (int y = 0; y < image.height(); ++y)
        for (int x = 0; x < image.width(); ++x)
            ++counts[image.pixel(x, y)];
    QRgb background = 0;
    int most = 0;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it)
        if (it.value() > most) {
            most = it.value();
            background = it.key();
        }
    double best = 0;
    for (auto it = counts.cbegin(); it != counts.cend(); ++it) {
        const QColor color = QColor::fromRgb(it.key());
        const int hue = color.hsvHue();
        if (color.hsvSaturationF() >= 0.35 && hue >= 0 && (hue <= 20 || hue >= 340))
            best = std::max(best, contrast(color, QColor::fromRgb(background)));
    }
    return best;
}

void chooseTheme(MainWindow &window, const QString &name)
{
    for (QAction *action : window.findChild<QMenu *>(QStringLiteral("themeMenu"))->actions())
        if (action->data().toString() == name) {
            action->trigger();
            QCoreApplication::processEvents();
            QCoreApplication::processEvents(); // the navigation restyles on the next turn
            return;
        }
    QFAIL("no such theme");
}


} // namespace

class TestAppearance : public QObject
{
    Q_OBJECT

    QTemporaryDir m_tmp;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        QStandardPaths::setTestModeEnabled(true);
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_tmp.filePath(QStringLiteral("settings")));
    }

    void init() { QSettings(AppSettings::organization(), AppSettings::application()).clear(); }

    // The Library's "could not open" text and the Benchmark page's refusal, in red, stay
    // readable when the theme goes from light to dark and back while they show.
    void errorTextIsReadableOnBothThemesAndAfterASwitch()
    {
        MainWindow window;
        window.resize(1100, 700);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        chooseTheme(window, QStringLiteral("light"));

        window.openModel(m_tmp.filePath(QStringLiteral("no-such-model")));
        auto *libraryError = child<QLabel>(&window, "modelError");
        QTRY_VERIFY(libraryError->isVisible());
        window.showPage(MainWindow::Page::Benchmark);
        auto *batches = child<QLineEdit>(&window, "batchSizesEdit");
        batches->setText(QStringLiteral("two"));
        auto *refusal = child<QLabel>(&window, "configStatusLabel");
        QTRY_VERIFY(refusal->isVisible() && !refusal->text().isEmpty());

        const auto check = [&](const char *theme) {
            window.showPage(MainWindow::Page::Library);
            const double library = redTextContrast(libraryError);
            QVERIFY2(library >= 4.5, qPrintable(QStringLiteral("%1: the Library's error text has a contrast of %2")
                                                    .arg(QLatin1String(theme)).arg(library)));
            window.showPage(MainWindow::Page::Benchmark);
            const double benchmark = redTextContrast(refusal);
            QVERIFY2(benchmark >= 4.5, qPrintable(QStringLiteral("%1: the Benchmark page's refusal has a contrast of %2")
                                                      .arg(QLatin1String(theme)).arg(benchmark)));
        };
        check("light");
        chooseTheme(window, QStringLiteral("dark"));
        check("dark after a switch");
        chooseTheme(window, QStringLiteral("light"));
        check("light after switching back");
    }

    // "does not fit" (the Chat page's memory fit of a model folder typed, before loading).
    void memoryFitVerdictIsReadableAfterASwitchToDark()
    {
        // A config.json alone is enough for the estimate: the demo's, made far too large.
        const QString folder = m_tmp.filePath(QStringLiteral("huge-model"));
        QVERIFY(QDir().mkpath(folder));
        QFile demo(ResourcePaths::demoModelFolder() + QStringLiteral("/config.json"));
        QVERIFY(demo.open(QIODevice::ReadOnly));
        QJsonObject config = QJsonDocument::fromJson(demo.readAll()).object();
        config.insert(QStringLiteral("hidden_size"), 16384);
        config.insert(QStringLiteral("intermediate_size"), 65536);
        config.insert(QStringLiteral("num_hidden_layers"), 400);
        config.insert(QStringLiteral("head_dim"), 128);
        config.insert(QStringLiteral("num_attention_heads"), 128);
        config.insert(QStringLiteral("num_key_value_heads"), 8);
        QFile out(folder + QStringLiteral("/config.json"));
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(QJsonDocument(config).toJson());
        out.close();

        MainWindow window;
        window.resize(1100, 700);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        chooseTheme(window, QStringLiteral("light"));
        window.showPage(MainWindow::Page::Chat);
        ChatSessionWidget *session = window.chatPage()->primarySession();
        child<QLineEdit>(session, "chatModelFolderEdit")->setText(folder);
        auto *fit = child<QLabel>(session, "chatFitLabel");
        QTRY_VERIFY(fit->isVisible());
        QVERIFY2(fit->text().contains(QStringLiteral("does not fit")), qPrintable(fit->text()));
        QVERIFY2(redTextContrast(fit) >= 4.5, qPrintable(QString::number(redTextContrast(fit))));
        chooseTheme(window, QStringLiteral("dark"));
        QVERIFY2(redTextContrast(fit) >= 4.5, qPrintable(QString::number(redTextContrast(fit))));
    }

    // Opened for the first time (no saved geometry), the window fits the screen's free area.
    void defaultSizeFitsTheScreen()
    {
        MainWindow window;
        const QRect available = window.screen()->availableGeometry();
        QVERIFY2(window.width() <= available.width() && window.height() <= available.height(),
                 qPrintable(QStringLiteral("%1x%2 on a %3x%4 screen")
                                .arg(window.width())
                                .arg(window.height())
                                .arg(available.width())
                                .arg(available.height())));
    }

    // At 1024x640 every page (Chat in compare mode too) fits: no page makes the window
    // larger, and the status bar with the job indicator stays inside it.
    void everyPageFitsA1024x640Screen()
    {
        MainWindow window;
        window.resize(1024, 640);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        const auto check = [&](const QString &where) {
            QTest::qWait(100); // the layouts settle (posted LayoutRequest events)
            const QSize hint = window.minimumSizeHint();
            QVERIFY2(hint.width() <= 1024 && hint.height() <= 640,
                     qPrintable(QStringLiteral("%1 needs at least %2x%3").arg(where).arg(hint.width()).arg(hint.height())));
            QVERIFY2(window.width() <= 1024 && window.height() <= 640,
                     qPrintable(QStringLiteral("%1: the window is %2x%3").arg(where).arg(window.width()).arg(window.height())));
            const QRect status(window.statusBar()->mapTo(&window, QPoint(0, 0)), window.statusBar()->size());
            QVERIFY2(window.rect().contains(status), qPrintable(where));
        };
        for (const auto page : {MainWindow::Page::Library, MainWindow::Page::Quantize, MainWindow::Page::Chat,
                                MainWindow::Page::Benchmark}) {
            window.showPage(page);
            check(QStringLiteral("page %1").arg(int(page)));
        }
        window.showPage(MainWindow::Page::Chat);
        // The side panel (system prompt, sampling) scrolls, and is never cut at its side.
        auto *side = child<QScrollArea>(&window, "chatSidePanel");
        QVERIFY2(side->widget()->width() <= side->viewport()->width(),
                 qPrintable(QStringLiteral("%1 in %2").arg(side->widget()->width()).arg(side->viewport()->width())));
        child<QCheckBox>(&window, "chatCompareCheck")->setChecked(true);
        check(QStringLiteral("Chat in compare mode"));
        // Two models fit as one above the other; side by side again once the window is wide.
        auto *sessions = child<QSplitter>(&window, "chatSessionSplitter");
        QCOMPARE(sessions->orientation(), Qt::Vertical);
        // Stacked, each leaves out its statistics line (the transcript has them under each reply).
        QVERIFY(!child<QLabel>(window.chatPage()->compareSession(), "chatStatsLabel")->isVisible());
        window.resize(1600, 900);
        QTRY_COMPARE(sessions->orientation(), Qt::Horizontal);
        QVERIFY(child<QLabel>(window.chatPage()->compareSession(), "chatStatsLabel")->isVisible());
        window.resize(1024, 640);
        QTRY_COMPARE(sessions->orientation(), Qt::Vertical);
        check(QStringLiteral("Chat in compare mode, narrowed again"));
    }

    // The quantization wizard (a window of its own) too, on every step.
    void wizardFitsA1024x640Screen()
    {
        MainWindow window;
        window.show();
        window.startQuantizeWizard(ResourcePaths::demoModelFolder());
        auto *wizard = window.findChild<QuantizeWizard *>();
        QVERIFY(wizard);
        QVERIFY(QTest::qWaitForWindowExposed(wizard));
        const QRect available = wizard->screen()->availableGeometry();
        QVERIFY2(wizard->width() <= available.width() && wizard->height() <= available.height(),
                 qPrintable(QStringLiteral("%1x%2").arg(wizard->width()).arg(wizard->height())));
        for (const int id : wizard->pageIds()) {
            Q_UNUSED(id)
            QCoreApplication::processEvents();
            QVERIFY2(wizard->minimumWidth() <= available.width() && wizard->minimumHeight() <= available.height(),
                     qPrintable(QStringLiteral("at least %1x%2").arg(wizard->minimumWidth()).arg(wizard->minimumHeight())));
            const QSize hint = wizard->minimumSizeHint(); // what the step's contents need
            QVERIFY2(hint.width() <= 1024 && hint.height() <= 600,
                     qPrintable(QStringLiteral("step \"%1\" needs at least %2x%3")
                                    .arg(wizard->currentPage()->title())
                                    .arg(hint.width())
                                    .arg(hint.height())));
            if (wizard->currentId() == QuantizeWizard::OutputPageId)
                break; // the run page starts the run
            QTRY_VERIFY_WITH_TIMEOUT(wizard->currentPage()->isComplete(), 30000);
            const int before = wizard->currentId();
            wizard->next();
            QTRY_VERIFY(wizard->currentId() != before);
        }
        wizard->reject();
    }
};

QTEST_MAIN(TestAppearance)
#include "tst_appearance.moc"
