// The Chat page driven as a user would (offscreen): load the bundled demo model by typing
// its folder, send messages with the keyboard and see the reply stream into the
// transcript, Stop, Regenerate, Edit last, New chat, compare two models, and save / open /
// export conversations.

#include <QCheckBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QtTest>

#include "chatpage.h"
#include "chatsessionwidget.h"
#include "chattranscriptview.h"
#include "chatworker.h"
#include "resourcepaths.h"

namespace {

// With AWQ_SCREENSHOT_DIR set, saves the widget as <dir>/<name>.png (docs/screenshots).
void snap(QWidget &widget, const char *name)
{
    const QString dir = qEnvironmentVariable("AWQ_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QCoreApplication::processEvents();
    widget.grab().save(dir + QLatin1Char('/') + QLatin1String(name) + QStringLiteral(".png"));
}

template <typename T>
T *child(QWidget *root, const char *name)
{
    T *w = root->findChild<T *>(QString::fromLatin1(name));
    if (!w)
        qFatal("no child %s", name);
    return w;
}

} // namespace

class TestChatWindow : public QObject
{
    Q_OBJECT

    QString m_demo;
    QTemporaryDir m_tmp;

    void loadDemo(ChatSessionWidget *session)
    {
        auto *edit = child<QLineEdit>(session, "chatModelFolderEdit");
        edit->clear();
        QTest::keyClicks(edit, m_demo);
        QTest::keyClick(edit, Qt::Key_Return); // the Load button is clicked in loadingShowsTheModelAndErrors
        QTRY_VERIFY2_WITH_TIMEOUT(session->hasModel(), qPrintable(child<QLabel>(session, "chatModelLabel")->text()),
                                  60000);
    }

    void type(ChatPage &page, const QString &text)
    {
        auto *input = child<QPlainTextEdit>(&page, "chatInput");
        input->setFocus();
        QTest::keyClicks(input, text);
    }

    static void setSampling(ChatPage &page, double temperature, int maxTokens)
    {
        auto *temp = child<QDoubleSpinBox>(&page, "chatTemperatureSpin");
        temp->selectAll();
        QTest::keyClicks(temp, QString::number(temperature, 'f', 2));
        auto *tokens = child<QSpinBox>(&page, "chatMaxTokensSpin");
        tokens->selectAll();
        QTest::keyClicks(tokens, QString::number(maxTokens));
        QCOMPARE(page.settings().maxNewTokens, int64_t(maxTokens));
    }

    static bool idle(ChatPage &page)
    {
        return !page.primarySession()->isBusy() && !page.compareSession()->isBusy()
               && child<QPushButton>(&page, "chatSendButton")->isEnabled();
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_demo = ResourcePaths::demoModelFolder();
        QVERIFY2(!m_demo.isEmpty(), "the demo model is not in any data folder");
        QVERIFY(m_tmp.isValid());
    }

    void loadingShowsTheModelAndErrors()
    {
        ChatPage page;
        page.show();
        ChatSessionWidget *session = page.primarySession();
        QVERIFY(!child<QPushButton>(&page, "chatSendButton")->isEnabled());

        auto *edit = child<QLineEdit>(session, "chatModelFolderEdit");
        QTest::keyClicks(edit, m_tmp.filePath(QStringLiteral("no-such-model")));
        QTest::mouseClick(child<QPushButton>(session, "chatLoadButton"), Qt::LeftButton);
        auto *label = child<QLabel>(session, "chatModelLabel");
        QTRY_VERIFY_WITH_TIMEOUT(label->text().contains(QStringLiteral("Could not load")), 30000);
        QVERIFY2(label->text().contains(QStringLiteral("no-such-model")), qPrintable(label->text()));
        QVERIFY(!session->hasModel());

        loadDemo(session);
        QVERIFY2(label->text().contains(QStringLiteral("demo-llama")), qPrintable(label->text()));
        QVERIFY(child<QPushButton>(&page, "chatSendButton")->isEnabled());
        QVERIFY(child<QProgressBar>(session, "chatContextMeter")->format().contains(QStringLiteral("256")));
    }

    void sendingStreamsTheReplyIntoTheTranscript()
    {
        ChatPage page;
        page.show();
        loadDemo(page.primarySession());
        setSampling(page, 0.0, 32);
        QSignalSpy pieces(page.primarySession()->controller(), &ChatController::replyText);
        type(page, QStringLiteral("What did the jury say?"));
        QTest::keyClick(child<QPlainTextEdit>(&page, "chatInput"), Qt::Key_Return);
        QVERIFY(child<QPlainTextEdit>(&page, "chatInput")->toPlainText().isEmpty());
        QVERIFY(page.primarySession()->isBusy() || pieces.count() > 0 || page.primarySession()->turns().size() == 2);
        QTRY_VERIFY_WITH_TIMEOUT(idle(page), 60000);

        QVERIFY(pieces.count() >= 1);
        const auto &turns = page.primarySession()->turns();
        QCOMPARE(turns.size(), size_t(2));
        QCOMPARE(turns[0].message.content, std::string("What did the jury say?"));
        QCOMPARE(turns[1].message.role, std::string("assistant"));
        QVERIFY(turns[1].stats.has_value());
        QString streamed;
        for (const QList<QVariant> &args : pieces)
            streamed += args.at(0).toString();
        // What streamed is the reply (less the space a reply's first token starts with).
        QCOMPARE(streamed.trimmed().toStdString(), QString::fromStdString(turns[1].message.content).trimmed().toStdString());
        QVERIFY(!QString::fromStdString(turns[1].message.content).front().isSpace());
        const QString transcript = page.primarySession()->transcript()->toPlainText();
        QVERIFY(transcript.contains(QStringLiteral("What did the jury say?")));
        QVERIFY(transcript.contains(QString::fromStdString(turns[1].message.content)));
        QVERIFY(transcript.contains(QStringLiteral("tok/s")));
        QVERIFY(child<QLabel>(page.primarySession(), "chatStatsLabel")->text().contains(QStringLiteral("tok/s")));
        QVERIFY(child<QProgressBar>(page.primarySession(), "chatContextMeter")->value() > 0);
        page.resize(1180, 720);
        snap(page, "chat");
    }

    void stopEndsTheReplyWithinABoundedTime()
    {
        ChatPage page;
        page.show();
        loadDemo(page.primarySession());
        setSampling(page, 1.0, 200);
        auto *stop = child<QPushButton>(&page, "chatStopButton");
        QElapsedTimer sinceStop;
        bool clicked = false;
        connect(page.primarySession()->controller(), &ChatController::replyText, this, [&] {
            if (!clicked) {
                clicked = true;
                QVERIFY(stop->isEnabled());
                sinceStop.start();
                QTest::mouseClick(stop, Qt::LeftButton);
            }
        });
        type(page, QStringLiteral("Tell me a long story about the city council"));
        QTest::mouseClick(child<QPushButton>(&page, "chatSendButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(clicked, 60000);
        QTRY_VERIFY_WITH_TIMEOUT(idle(page), 10000);
        const qint64 ms = sinceStop.elapsed();
        qInfo("the reply ended %lld ms after Stop", static_cast<long long>(ms));
        QVERIFY2(ms < 3000, qPrintable(QString::number(ms)));
        const auto &turns = page.primarySession()->turns();
        QCOMPARE(turns.size(), size_t(2));
        QVERIFY(turns[1].stats.has_value());
        if (turns[1].stats->stopReason != "end of sequence") { // the demo model may end by itself first
            QCOMPARE(turns[1].stats->stopReason, std::string("stopped by you"));
            QVERIFY(turns[1].stats->generatedTokens < 200);
        }
        QVERIFY(!stop->isEnabled());
    }

    void regenerateEditAndNewChat()
    {
        ChatPage page;
        page.show();
        loadDemo(page.primarySession());
        setSampling(page, 0.9, 16);
        type(page, QStringLiteral("Who met?"));
        QTest::keyClick(child<QPlainTextEdit>(&page, "chatInput"), Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(idle(page), 60000);
        QCOMPARE(page.primarySession()->turns().size(), size_t(2));

        QTest::mouseClick(child<QPushButton>(&page, "chatRegenerateButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(idle(page), 60000);
        QCOMPARE(page.primarySession()->turns().size(), size_t(2)); // replaced, not added
        QCOMPARE(page.primarySession()->turns().back().message.role, std::string("assistant"));

        QTest::mouseClick(child<QPushButton>(&page, "chatEditButton"), Qt::LeftButton);
        QCOMPARE(page.primarySession()->turns().size(), size_t(0));
        auto *input = child<QPlainTextEdit>(&page, "chatInput");
        QCOMPARE(input->toPlainText(), QStringLiteral("Who met?"));
        QTest::keyClicks(input, QStringLiteral(" And why?"));
        QTest::keyClick(input, Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(idle(page), 60000);
        QCOMPARE(page.primarySession()->turns().front().message.content, std::string("Who met? And why?"));

        QTest::mouseClick(child<QPushButton>(&page, "chatNewButton"), Qt::LeftButton);
        QVERIFY(page.primarySession()->turns().empty());
    }

    void conversationsSaveOpenAndExport()
    {
        ChatPage page;
        page.setErrorDialogs(false);
        page.show();
        loadDemo(page.primarySession());
        setSampling(page, 0.0, 12);
        auto *system = child<QPlainTextEdit>(&page, "chatSystemPrompt");
        system->clear();
        QTest::keyClicks(system, QStringLiteral("Answer briefly."));
        type(page, QStringLiteral("Where is the city?"));
        QTest::keyClick(child<QPlainTextEdit>(&page, "chatInput"), Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(idle(page), 60000);
        const auto turns = page.primarySession()->turns();

        const QString file = m_tmp.filePath(QStringLiteral("chat.json"));
        QVERIFY(page.saveConversationTo(file));
        QTest::mouseClick(child<QPushButton>(&page, "chatNewButton"), Qt::LeftButton);
        system->clear();
        QVERIFY(page.openConversationFrom(file));
        QCOMPARE(page.primarySession()->turns().size(), turns.size());
        QCOMPARE(page.primarySession()->turns().back().message.content, turns.back().message.content);
        QVERIFY(page.primarySession()->turns().back().stats.has_value());
        QCOMPARE(page.systemPrompt(), QStringLiteral("Answer briefly."));
        QCOMPARE(page.settings().maxNewTokens, int64_t(12));

        const QString markdown = m_tmp.filePath(QStringLiteral("chat.md"));
        QVERIFY(page.exportMarkdownTo(markdown));
        QFile md(markdown);
        QVERIFY(md.open(QIODevice::ReadOnly));
        const QString text = QString::fromUtf8(md.readAll());
        QVERIFY(text.contains(QStringLiteral("Where is the city?")));
        QVERIFY(text.contains(QStringLiteral("Answer briefly.")));

        // A file that is not a conversation: an error naming it, the chat unchanged.
        const QString bad = m_tmp.filePath(QStringLiteral("not-a-chat.json"));
        QFile out(bad);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write("{\"hello\": 1");
        out.close();
        QVERIFY(!page.openConversationFrom(bad));
        QVERIFY2(page.lastError().contains(QStringLiteral("not-a-chat.json")), qPrintable(page.lastError()));
        QCOMPARE(page.primarySession()->turns().size(), turns.size());
        // Saving into a folder that does not exist fails with the path named.
        QVERIFY(!page.saveConversationTo(m_tmp.filePath(QStringLiteral("missing/dir/chat.json"))));
        QVERIFY2(page.lastError().contains(QStringLiteral("missing")), qPrintable(page.lastError()));
    }

    void compareModeAsksBothModels()
    {
        ChatPage page;
        page.resize(1400, 760);
        page.show();
        loadDemo(page.primarySession());
        QTest::mouseClick(child<QCheckBox>(&page, "chatCompareCheck"), Qt::LeftButton);
        QVERIFY(page.compareMode());
        QVERIFY(page.compareSession()->isVisible());
        loadDemo(page.compareSession());
        setSampling(page, 0.0, 12);
        type(page, QStringLiteral("Who won?"));
        QTest::keyClick(child<QPlainTextEdit>(&page, "chatInput"), Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(idle(page) && page.compareSession()->turns().size() == 2, 60000);
        QCOMPARE(page.primarySession()->turns().size(), size_t(2));
        // The same greedy model answers the same.
        QCOMPARE(page.compareSession()->turns().back().message.content,
                 page.primarySession()->turns().back().message.content);
        QVERIFY(page.compareSession()->turns().back().stats.has_value());
        snap(page, "chat-compare");
    }
};

QTEST_MAIN(TestChatWindow)
#include "tst_chat_window.moc"
