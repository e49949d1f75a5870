// awq-studio: the desktop application. Parses the command line, opens the window,
// and opens the model folder given (or the bundled demo model).

#include <cstdio>

#include <QApplication>
#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QPixmap>
#include <QSettings>
#include <QTimer>

#include "awq/core/memory.h"
#include "awq/runtime/threads.h"
#include "appsettings.h"
#include "chatpage.h"
#include "mainwindow.h"
#include "resourcepaths.h"
#include "theme.h"

#ifndef AWQ_VERSION
#define AWQ_VERSION "0.0.0"
#endif

int main(int argc, char **argv)
{
    awq::configureAllocator(); // see awq/core/memory.h
    awq::configureThreads();   // every core: LibTorch's own default can be 1 (awq/runtime/threads.h)
    QApplication app(argc, argv);
    QApplication::setOrganizationName(AppSettings::organization());
    QApplication::setApplicationName(AppSettings::application());
    QApplication::setApplicationDisplayName(QStringLiteral("AWQ Studio"));
    QApplication::setApplicationVersion(QStringLiteral(AWQ_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("AWQ Studio: 4-bit AWQ quantization and int4 inference for Llama-family models.\n"
                       "With no MODEL, opens the bundled demo model when it is installed."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("MODEL"), QStringLiteral("A Hugging Face style model folder to open."),
                                 QStringLiteral("[MODEL]"));
    const QCommandLineOption screenshotOption(
        QStringLiteral("screenshot"), QStringLiteral("Save a PNG of the main window to FILE (with --quit-after)."),
        QStringLiteral("FILE"));
    const QCommandLineOption quitAfterOption(
        QStringLiteral("quit-after"),
        QStringLiteral("Quit after MS milliseconds (taking the --screenshot first). For smoke tests."),
        QStringLiteral("MS"));
    const QCommandLineOption themeOption(QStringLiteral("theme"),
                                         QStringLiteral("Colour theme: system, light or dark (remembered)."),
                                         QStringLiteral("NAME"));
    const QCommandLineOption pageOption(QStringLiteral("page"),
                                        QStringLiteral("Open on a page: library, quantize, chat or benchmark."),
                                        QStringLiteral("NAME"));
    parser.addOption(screenshotOption);
    parser.addOption(themeOption);
    parser.addOption(pageOption);
    parser.addOption(quitAfterOption);
    parser.process(app); // handles --help and --version, exits on unknown options

    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) {
        std::fprintf(stderr, "awq-studio: expected at most one MODEL folder, got %d\n",
                     static_cast<int>(positional.size()));
        return 2;
    }
    int quitAfterMs = -1;
    if (parser.isSet(quitAfterOption)) {
        bool ok = false;
        quitAfterMs = parser.value(quitAfterOption).toInt(&ok);
        if (!ok || quitAfterMs < 0) {
            std::fprintf(stderr, "awq-studio: --quit-after needs a number of milliseconds\n");
            return 2;
        }
    }
    const QString screenshot = parser.value(screenshotOption);
    if (!screenshot.isEmpty() && quitAfterMs < 0)
        quitAfterMs = 2000;

    QSettings settings;
    if (parser.isSet(themeOption)) {
        const QString name = parser.value(themeOption);
        if (Theme::name(Theme::fromName(name)) != name) {
            std::fprintf(stderr, "awq-studio: --theme must be system, light or dark, not '%s'\n", qPrintable(name));
            return 2;
        }
        settings.setValue(QStringLiteral("theme"), name);
    }
    Theme::apply(Theme::fromName(settings.value(QStringLiteral("theme")).toString()));
    const QStringList pageNames = {QStringLiteral("library"), QStringLiteral("quantize"), QStringLiteral("chat"),
                                   QStringLiteral("benchmark")};
    const int page = parser.isSet(pageOption) ? int(pageNames.indexOf(parser.value(pageOption))) : 0;
    if (page < 0) {
        std::fprintf(stderr, "awq-studio: --page must be library, quantize, chat or benchmark\n");
        return 2;
    }

    MainWindow window;
    window.show();

    const QString model = positional.isEmpty() ? ResourcePaths::demoModelFolder() : positional.constFirst();
    if (!model.isEmpty())
        window.openModel(QFileInfo(model).absoluteFilePath());
    window.chatPage()->restoreLastConversation();
    window.showPage(static_cast<MainWindow::Page>(page));

    int exitCode = 0;
    if (quitAfterMs >= 0) {
        QTimer::singleShot(quitAfterMs, &window, [&] {
            if (!screenshot.isEmpty()) {
                if (window.grab().save(screenshot, "PNG")) {
                    std::fprintf(stdout, "awq-studio: saved %s\n", qPrintable(QDir::toNativeSeparators(screenshot)));
                } else {
                    std::fprintf(stderr, "awq-studio: could not write %s\n", qPrintable(screenshot));
                    exitCode = 1;
                }
            }
            window.close();
            QApplication::exit(exitCode);
        });
    }
    const int rc = QApplication::exec();
    return rc != 0 ? rc : exitCode;
}
