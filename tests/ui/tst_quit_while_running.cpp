// Quitting (Ctrl+Q or closing the window) while a long job runs: the window asks first.
// "Keep Running" leaves the job and the window as they were; "Stop and Quit" cancels the
// job (a quantization leaves nothing on disk) and closes the window once it has stopped.

#include <QAction>
#include <QApplication>
#include <QMenuBar>
#include <QMessageBox>
#include <QPointer>
#include <QPushButton>
#include <QSettings>
#include <QStandardPaths>
#include <QSignalSpy>
#include <QTimer>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "chatpage.h"
#include "chatsessionwidget.h"
#include "chatworker.h"
#include "fixture_model.h"
#include "mainwindow.h"
#include "quantizewizard.h"
#include "quantizeworker.h"
#include "resourcepaths.h"

namespace fs = std::filesystem;

namespace {

// Answers the next "Quit AWQ Studio" question with `button` as soon as it shows; `asked`
// counts the questions seen.
void answerQuitQuestion(QMessageBox::StandardButton button, int *asked)
{
    auto *timer = new QTimer;
    timer->setInterval(10);
    QObject::connect(timer, &QTimer::timeout, timer, [timer, button, asked] {
        auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
        if (!box || box->objectName() != QLatin1String("quitConfirmBox"))
            return;
        ++*asked;
        timer->stop();
        timer->deleteLater();
        box->button(button)->click();
    });
    timer->start();
}

QAction *quitAction(MainWindow &window)
{
    for (QAction *action : window.findChildren<QAction *>())
        if (action->shortcut() == QKeySequence(Qt::CTRL | Qt::Key_Q))
            return action;
    qFatal("no Ctrl+Q action");
}

bool hasSiblingWithPrefix(const fs::path &path)
{
    if (!fs::exists(path.parent_path()))
        return false;
    for (const auto &entry : fs::directory_iterator(path.parent_path()))
        if (entry.path().filename().string().rfind(path.filename().string(), 0) == 0)
            return true;
    return false;
}

} // namespace

class TestQuitWhileRunning : public QObject
{
    Q_OBJECT

    fs::path m_root, m_model, m_calib;

private Q_SLOTS:
    void initTestCase()
    {
        m_root = awq::test::makeTempDir("quit-while-running");
        // This test's own settings and conversations, not the user's.
        QStandardPaths::setTestModeEnabled(true);
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                           QString::fromStdString((m_root / "settings").string()));
        awq::test::FixtureSpec big;
        big.numLayers = 24;
        big.seed = 7;
        m_model = awq::test::makeFixtureModel(m_root / "model", big);
        m_calib = m_root / "calib.txt";
        std::ofstream calib(m_calib);
        for (int i = 0; i < 80; ++i)
            calib << "The old sailor " << i << " walked along the long road before the rain began.\n";
    }

    void quitDuringQuantizationAsksAndNoKeepsTheRun()
    {
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.startQuantizeWizard(QString::fromStdString(m_model.string()));
        QPointer<QuantizeWizard> wizard = window.findChild<QuantizeWizard *>();
        QVERIFY(wizard);

        awq::QuantOptions options;
        options.modelFolder = m_model;
        options.outputFolder = m_root / "out-quit";
        options.calibration.source.kind = awq::CalibrationSource::Kind::TextFile;
        options.calibration.source.path = m_calib;
        options.calibration.seqLen = 64;
        options.calibration.nSamples = 64;
        options.quantizer.groupSize = 32;
        QSignalSpy cancelled(wizard->controller(), &QuantizeController::cancelled);
        QSignalSpy finished(wizard->controller(), &QuantizeController::finished);

        // Ctrl+Q at the first layer: "Keep Running"; at a later one: "Stop and Quit".
        int asked = 0;
        int layersSeen = 0;
        bool keptWindow = false, keptRun = false;
        connect(wizard->controller(), &QuantizeController::progress, this, [&](const QString &, qint64 layer) {
            if (layer < 0)
                return;
            ++layersSeen;
            if (layersSeen == 1) {
                answerQuitQuestion(QMessageBox::No, &asked);
                quitAction(window)->trigger();
                keptWindow = window.isVisible();
                keptRun = wizard && wizard->isRunning();
            } else if (layersSeen == 2) {
                answerQuitQuestion(QMessageBox::Yes, &asked);
                quitAction(window)->trigger();
            }
        });
        wizard->controller()->start(options);
        QVERIFY(wizard->isRunning());

        QTRY_VERIFY_WITH_TIMEOUT(layersSeen >= 2, 60000);
        QCOMPARE(asked, 2);
        QVERIFY2(keptWindow, "No closed the window");
        QVERIFY2(keptRun, "No stopped the quantization");
        // Yes: cancelled cleanly, then the window closed by itself.
        QTRY_VERIFY_WITH_TIMEOUT(!window.isVisible(), 60000);
        QCOMPARE(cancelled.count(), 1);
        QCOMPARE(finished.count(), 0);
        QVERIFY(!fs::exists(options.outputFolder));
        QVERIFY(!hasSiblingWithPrefix(options.outputFolder));
        QVERIFY(!wizard); // closed and deleted once stopped
    }

    void quitDuringAChatReplyAsks()
    {
        const QString demo = ResourcePaths::demoModelFolder();
        QVERIFY(!demo.isEmpty());
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        ChatPage *chat = window.chatPage();
        chat->setModelFolder(demo, true);
        QTRY_VERIFY_WITH_TIMEOUT(chat->primarySession()->hasModel(), 60000);
        awq::chat::ChatSettings settings = chat->settings();
        settings.maxNewTokens = 200;
        settings.temperature = 1.0;
        chat->setSettings(settings);

        int asked = 0;
        bool answered = false, keptWindow = false, keptReply = false;
        connect(chat->primarySession()->controller(), &ChatController::replyText, this, [&] {
            if (answered)
                return;
            answered = true;
            answerQuitQuestion(QMessageBox::No, &asked);
            window.close();
            keptWindow = window.isVisible();
            keptReply = chat->primarySession()->controller()->isGenerating();
        });
        QVERIFY(chat->primarySession()->ask(QStringLiteral("Tell me a long story"), QString(), chat->settings()));
        QTRY_VERIFY_WITH_TIMEOUT(answered, 60000);
        QCOMPARE(asked, 1);
        QVERIFY(keptWindow);
        QVERIFY(keptReply);
    }
};

QTEST_MAIN(TestQuitWhileRunning)
#include "tst_quit_while_running.moc"
