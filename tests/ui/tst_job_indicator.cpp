// The status bar's running-job indicator (issue 23): it names what runs with its
// progress, lists every job when several run, and a click goes to where the job is shown;
// it disappears when the job ends. Driven through MainWindow with a chat reply on the
// bundled demo model and a quantization of a small fixture model.

#include <QApplication>
#include <QPointer>
#include <QLabel>
#include <QProgressBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QStatusBar>
#include <QtTest>

#include <filesystem>
#include <fstream>

#include "chatpage.h"
#include "chatsessionwidget.h"
#include "chatworker.h"
#include "fixture_model.h"
#include "jobindicator.h"
#include "mainwindow.h"
#include "quantizewizard.h"
#include "quantizeworker.h"
#include "resourcepaths.h"
#include "ui_test_support.h"

namespace fs = std::filesystem;

namespace {

using uitest::child;
using uitest::snap;


} // namespace

class TestJobIndicator : public QObject
{
    Q_OBJECT

    fs::path m_root;

private Q_SLOTS:
    void initTestCase()
    {
        m_root = awq::test::makeTempDir("job-indicator");
        QStandardPaths::setTestModeEnabled(true);
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope,
                           QString::fromStdString((m_root / "settings").string()));
    }

    void showsTheFirstJobCountsTheOthersAndGoesThere()
    {
        JobIndicator indicator;
        QVERIFY(!indicator.isVisibleTo(nullptr) || indicator.isHidden());
        QVERIFY(!indicator.activate());
        int wentTo = 0;
        indicator.setJob(QStringLiteral("a"), QStringLiteral("Benchmark: FP32 batch 1"), 0.25, [&] { wentTo = 1; });
        indicator.setJob(QStringLiteral("b"), QStringLiteral("Chat reply: 3 of at most 9 tokens"), -1, [&] { wentTo = 2; });
        QVERIFY(!indicator.isHidden());
        QCOMPARE(indicator.text(), QStringLiteral("Benchmark: FP32 batch 1 · +1 more"));
        QVERIFY(indicator.toolTip().contains(QStringLiteral("Chat reply: 3 of at most 9 tokens")));
        QCOMPARE(indicator.findChild<QProgressBar *>()->value(), 250);
        // An update keeps the job's place.
        indicator.setJob(QStringLiteral("a"), QStringLiteral("Benchmark: GEMM batch 1"), 0.5, [&] { wentTo = 1; });
        QCOMPARE(indicator.jobTexts().front(), QStringLiteral("Benchmark: GEMM batch 1"));
        QTest::mouseClick(&indicator, Qt::LeftButton);
        QCOMPARE(wentTo, 1);
        indicator.endJob(QStringLiteral("a"));
        QCOMPARE(indicator.text(), QStringLiteral("Chat reply: 3 of at most 9 tokens"));
        QCOMPARE(indicator.findChild<QProgressBar *>()->maximum(), 0); // busy: length unknown
        indicator.setFocus();
        QTest::keyClick(&indicator, Qt::Key_Return);
        QCOMPARE(wentTo, 2);
        indicator.endJob(QStringLiteral("b"));
        QVERIFY(indicator.isHidden());
        // A long line keeps the status bar inside a 1024-pixel window: the label elides it,
        // text() and the tooltip keep it whole.
        const QString longLine =
            QStringLiteral("Benchmark: Building FP32 (1 of 3): building a random fp32 model: layer 7/22 of tinyllama-1.1b");
        indicator.setJob(QStringLiteral("c"), longLine, 0.1, [] {});
        const auto *label = indicator.findChild<QLabel *>(QStringLiteral("jobIndicatorLabel"));
        QVERIFY(label);
        QCOMPARE(indicator.text(), longLine);
        QVERIFY(indicator.toolTip().contains(longLine));
        QVERIFY2(label->text() != longLine && label->text().endsWith(QChar(0x2026)), qPrintable(label->text()));
        QVERIFY(label->fontMetrics().horizontalAdvance(label->text()) <= JobIndicator::kMaxTextWidth);
    }

    void aChatReplyShowsAndAClickGoesToChat()
    {
        const QString demo = ResourcePaths::demoModelFolder();
        QVERIFY(!demo.isEmpty());
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        JobIndicator *jobs = window.jobIndicator();
        QVERIFY(jobs);
        QVERIFY(jobs->isHidden());
        ChatPage *chat = window.chatPage();
        QStringList seenWhileLoading;
        connect(chat->primarySession()->controller(), &ChatController::loadStarted, this,
                [&] { seenWhileLoading << jobs->text(); });
        chat->setModelFolder(demo, true);
        QTRY_VERIFY_WITH_TIMEOUT(chat->primarySession()->hasModel(), 60000);
        QVERIFY2(!seenWhileLoading.isEmpty() && seenWhileLoading.front().startsWith(QStringLiteral("Loading demo-llama")),
                 qPrintable(seenWhileLoading.join(QLatin1Char('|'))));
        QTRY_VERIFY(jobs->isHidden());

        awq::chat::ChatSettings settings = chat->settings();
        settings.maxNewTokens = 100;
        settings.temperature = 1.0;
        chat->setSettings(settings);
        window.showPage(MainWindow::Page::Library);
        QString shown;
        bool clicked = false;
        MainWindow::Page pageAfterClick = MainWindow::Page::Library;
        connect(chat->primarySession()->controller(), &ChatController::replyText, this, [&] {
            if (clicked)
                return;
            clicked = true;
            shown = jobs->text();
            window.resize(1024, 640);
            snap(window, "job-indicator");
            QTest::mouseClick(jobs, Qt::LeftButton);
            pageAfterClick = window.currentPage();
        });
        QVERIFY(chat->primarySession()->ask(QStringLiteral("Tell me a story"), QString(), chat->settings()));
        QTRY_VERIFY_WITH_TIMEOUT(clicked, 60000);
        QVERIFY2(shown.startsWith(QStringLiteral("Chat reply: 1 of at most 100 tokens")), qPrintable(shown));
        QCOMPARE(pageAfterClick, MainWindow::Page::Chat);
        QTRY_VERIFY_WITH_TIMEOUT(!chat->primarySession()->isBusy(), 60000);
        QVERIFY(jobs->isHidden());
    }

    void aQuantizationShowsItsLayerAndAClickBringsTheWizard()
    {
        const fs::path model = awq::test::makeFixtureModel(m_root / "model", awq::test::FixtureSpec{});
        const fs::path calib = m_root / "calib.txt";
        {
            std::ofstream text(calib);
            for (int i = 0; i < 80; ++i)
                text << "The old sailor " << i << " walked along the long road before the rain began.\n";
        }
        MainWindow window;
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        window.startQuantizeWizard(QString::fromStdString(model.string()));
        QPointer<QuantizeWizard> wizard = window.findChild<QuantizeWizard *>();
        QVERIFY(wizard);
        wizard->setConfirmCancel(false);
        JobIndicator *jobs = window.jobIndicator();

        awq::QuantOptions options;
        options.modelFolder = model;
        options.outputFolder = m_root / "out";
        options.calibration.source.kind = awq::CalibrationSource::Kind::TextFile;
        options.calibration.source.path = calib;
        options.calibration.seqLen = 64;
        options.calibration.nSamples = 16;
        options.quantizer.groupSize = 32;
        QString shown;
        bool clicked = false;
        connect(wizard->controller(), &QuantizeController::progress, this, [&](const QString &, qint64 layer) {
            if (layer < 0 || clicked)
                return;
            clicked = true;
            shown = jobs->text();
            window.showPage(MainWindow::Page::Chat);
            wizard->hide();
            QVERIFY(jobs->activate());
        });
        QSignalSpy finished(wizard->controller(), &QuantizeController::finished);
        wizard->controller()->start(options);
        QTRY_VERIFY_WITH_TIMEOUT(clicked, 60000);
        QVERIFY2(shown.startsWith(QStringLiteral("Quantizing model: ")) && shown.contains(QStringLiteral("layer")),
                 qPrintable(shown));
        QCOMPARE(window.currentPage(), MainWindow::Page::Quantize);
        QVERIFY(wizard->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(finished.count() == 1, 120000);
        QVERIFY2(jobs->isHidden(), qPrintable(jobs->text()));
    }
};

QTEST_MAIN(TestJobIndicator)
#include "tst_job_indicator.moc"
