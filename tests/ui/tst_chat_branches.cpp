// The Chat page's context-length setting and editing an earlier message (issue 23),
// driven as a user would (offscreen) on the bundled demo model: the context is chosen per
// model and remembered, bounds the replies and shows what its KV cache costs; editing an
// earlier message keeps the conversation as it was and starts a branch from that message
// (both sides in compare mode), and both are in the conversation list, the branch named after
// the edited message; a conversation shown again fills the context meter at once.

#include <QCheckBox>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTextDocument>
#include <QtTest>

#include "appsettings.h"
#include "awq/model/config.h"
#include "chatpage.h"
#include "chatsessionwidget.h"
#include "chattranscriptview.h"
#include "chatworker.h"
#include "conversationlist.h"
#include "quantizepagehelpers.h"
#include "resourcepaths.h"
#include "ui_test_support.h"

namespace {

using uitest::child;
using uitest::snap;



} // namespace

class TestChatBranches : public QObject
{
    Q_OBJECT

    QString m_demo;
    QTemporaryDir m_tmp;

    void loadDemo(ChatSessionWidget *session)
    {
        auto *edit = child<QLineEdit>(session, "chatModelFolderEdit");
        edit->clear();
        QTest::keyClicks(edit, m_demo);
        QTest::keyClick(edit, Qt::Key_Return);
        QTRY_VERIFY2_WITH_TIMEOUT(session->hasModel(), qPrintable(child<QLabel>(session, "chatModelLabel")->text()),
                                  60000);
    }

    static bool idle(ChatPage &page)
    {
        return !page.primarySession()->isBusy() && !page.compareSession()->isBusy()
               && child<QPushButton>(&page, "chatSendButton")->isEnabled();
    }

    void say(ChatPage &page, const QString &text)
    {
        auto *input = child<QPlainTextEdit>(&page, "chatInput");
        input->setFocus();
        QTest::keyClicks(input, text);
        QTest::keyClick(input, Qt::Key_Return);
        QTRY_VERIFY_WITH_TIMEOUT(idle(page), 60000);
    }

    static void typeInto(QSpinBox *spin, int value)
    {
        spin->setFocus();
        spin->selectAll();
        QTest::keyClicks(spin, QString::number(value));
        QTest::keyClick(spin, Qt::Key_Return); // keyboard tracking is off: Enter commits
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, m_tmp.filePath(QStringLiteral("settings")));
        QSettings(AppSettings::organization(), AppSettings::application()).clear();
        QDir(ConversationList::defaultFolder()).removeRecursively(); // from earlier runs
        m_demo = ResourcePaths::demoModelFolder();
        QVERIFY2(!m_demo.isEmpty(), "the demo model is not in any data folder");
    }

    void contextLengthIsChosenPerModelAndBoundsReplies()
    {
        const awq::ModelConfig config = awq::ModelConfig::load(quantui::toPath(m_demo));
        const quint64 perToken = 2 * quint64(config.numLayers * config.kvDim()) * 4;
        {
            ChatPage page;
            page.show();
            ChatSessionWidget *session = page.primarySession();
            auto *spin = child<QSpinBox>(session, "chatContextSpin");
            QVERIFY(!spin->isVisible()); // no model yet
            loadDemo(session);
            QVERIFY(spin->isVisible());
            // The demo's whole context (256 tokens) is under the 4096-token default cap.
            QCOMPARE(spin->maximum(), int(config.maxPositionEmbeddings));
            QCOMPARE(session->contextLength(), qint64(256));
            auto *cost = child<QLabel>(session, "chatContextCostLabel");
            QVERIFY2(cost->text().contains(quantui::bytesText(256 * perToken)), qPrintable(cost->text()));
            QCOMPARE(ChatSessionWidget::defaultContextLength(32768), qint64(4096));

            typeInto(spin, 96);
            QCOMPARE(session->contextLength(), qint64(96));
            QVERIFY2(cost->text().contains(quantui::bytesText(96 * perToken)), qPrintable(cost->text()));
            QVERIFY(child<QProgressBar>(session, "chatContextMeter")->format().contains(QStringLiteral("/ 96 tokens")));
            // A reply may take at most half the context.
            auto *maxTokens = child<QSpinBox>(&page, "chatMaxTokensSpin");
            QCOMPARE(maxTokens->maximum(), 96);
            QVERIFY(maxTokens->value() <= 48);
            QCOMPARE(page.settings().contextLength, qint64(96));

            // Replies stay within it, however long the conversation gets.
            for (const char *text : {"Tell me about the city council and the jury.", "What did the jury say then?",
                                     "And what happened after the election in the city?"})
                say(page, QString::fromLatin1(text));
            const auto &turns = session->turns();
            QVERIFY(turns.back().stats.has_value());
            QVERIFY2(turns.back().stats->promptTokens + turns.back().stats->generatedTokens <= 96,
                     qPrintable(QString::number(turns.back().stats->promptTokens)));
        }
        // Remembered for this model.
        ChatPage again;
        again.show();
        loadDemo(again.primarySession());
        QCOMPARE(again.primarySession()->contextLength(), qint64(96));
    }

    void editingAnEarlierMessageBranches()
    {
        ChatPage page;
        page.setErrorDialogs(false);
        page.resize(1300, 760);
        page.show();
        ConversationList *list = page.conversationList();
        const int listedBefore = int(list->shownIds().size());
        loadDemo(page.primarySession());
        child<QCheckBox>(&page, "chatCompareCheck")->setChecked(true);
        loadDemo(page.compareSession());
        say(page, QStringLiteral("Who met the zebra?"));
        say(page, QStringLiteral("Where did they meet?"));
        say(page, QStringLiteral("When was it?"));
        QCOMPARE(page.primarySession()->turns().size(), size_t(6));
        QCOMPARE(page.compareSession()->turns().size(), size_t(6));
        const QString original = page.currentConversationId();
        QCOMPARE(int(list->shownIds().size()), listedBefore + 1);

        // The user's messages carry an Edit link (the compare side's do not: it follows the left).
        ChatTranscriptView *transcript = page.primarySession()->transcript();
        QVERIFY(transcript->document()->toHtml().contains(QStringLiteral("edit:turn/2")));
        QVERIFY(!transcript->document()->toHtml().contains(QStringLiteral("edit:turn/1"))); // a reply
        QVERIFY(!page.compareSession()->transcript()->document()->toHtml().contains(QStringLiteral("edit:turn/")));
        QCOMPARE(transcript->editedTurn(QUrl(QStringLiteral("edit:turn/1"))), -1);

        // Edit the second message: the branch starts with the first exchange, on both sides.
        Q_EMIT transcript->anchorClicked(QUrl(QStringLiteral("edit:turn/2")));
        QCOMPARE(page.primarySession()->turns().size(), size_t(2));
        QCOMPARE(page.compareSession()->turns().size(), size_t(2));
        auto *input = child<QPlainTextEdit>(&page, "chatInput");
        QCOMPARE(input->toPlainText(), QStringLiteral("Where did they meet?"));
        QVERIFY(page.currentConversationId() != original);
        QVERIFY2(child<QLabel>(&page, "chatStatusLabel")->text().contains(QStringLiteral("new branch")),
                 qPrintable(child<QLabel>(&page, "chatStatusLabel")->text()));
        input->selectAll();
        say(page, QStringLiteral("Why did they meet?"));
        QCOMPARE(page.primarySession()->turns().size(), size_t(4));
        QCOMPARE(page.compareSession()->turns().size(), size_t(4));
        QCOMPARE(page.primarySession()->turns()[2].message.content, std::string("Why did they meet?"));
        QCOMPARE(page.compareSession()->turns()[2].message.content, std::string("Why did they meet?"));
        snap(page, "chat-branch");
        const QString branch = page.currentConversationId();
        QCOMPARE(int(list->shownIds().size()), listedBefore + 2);

        // Both are kept: the original as it was, the branch under its own title.
        QString error;
        const auto kept = list->load(original, &error);
        QVERIFY2(kept.has_value(), qPrintable(error));
        QCOMPARE(kept->turns.size(), size_t(6));
        QCOMPARE(kept->turns[2].message.content, std::string("Where did they meet?"));
        QCOMPARE(kept->compare->turns.size(), size_t(6));
        const auto edited = list->load(branch, &error);
        QVERIFY2(edited.has_value(), qPrintable(error));
        // Named after the edited message as sent, not after the conversation it came from.
        QCOMPARE(edited->title, std::string("Why did they meet? (edited)"));
        QCOMPARE(edited->compare->turns.size(), size_t(4));
        QCOMPARE(QString::fromStdString(kept->title), QStringLiteral("Who met the zebra?"));

        // Editing the first message of the branch starts from nothing; the title gets no second suffix.
        Q_EMIT transcript->anchorClicked(QUrl(QStringLiteral("edit:turn/0")));
        QVERIFY(page.primarySession()->turns().empty());
        QCOMPARE(input->toPlainText(), QStringLiteral("Who met the zebra?"));
        input->selectAll();
        say(page, QStringLiteral("Who met the lion?"));
        const auto again = list->load(page.currentConversationId(), &error);
        QVERIFY2(again.has_value(), qPrintable(error));
        QCOMPARE(again->title, std::string("Who met the lion? (edited)"));
        QCOMPARE(int(list->shownIds().size()), listedBefore + 3);
        // The branch it came from keeps its name.
        const auto branchKept = list->load(branch, &error);
        QVERIFY2(branchKept.has_value(), qPrintable(error));
        QCOMPARE(branchKept->title, std::string("Why did they meet? (edited)"));
    }

    // A conversation shown again (restored at start-up before its model loads, or opened
    // from a file saved without statistics) fills the context meter at once, counted with
    // the model loaded: not "0 / 256" until the next reply.
    void aRestoredConversationFillsTheContextMeter()
    {
        QSettings(AppSettings::organization(), AppSettings::application()).clear(); // the whole 256-token context
        const QString file = m_tmp.filePath(QStringLiteral("no-stats.json"));
        qint64 usedBefore = 0;
        {
            ChatPage page;
            page.setErrorDialogs(false);
            page.show();
            loadDemo(page.primarySession());
            // Short replies: the whole conversation stays within the context, as the last reply counted it.
            auto *maxTokens = child<QSpinBox>(&page, "chatMaxTokensSpin");
            maxTokens->setValue(12);
            say(page, QStringLiteral("Who met the zebra in the city?"));
            say(page, QStringLiteral("And then?"));
            usedBefore = child<QProgressBar>(page.primarySession(), "chatContextMeter")->value();
            QVERIFY(usedBefore > 0);
            QVERIFY2(page.saveConversationTo(file), qPrintable(page.lastError()));
        }
        {
            ChatPage again; // as after a restart
            again.show();
            again.restoreLastConversation();
            QCOMPARE(again.primarySession()->turns().size(), size_t(4));
            loadDemo(again.primarySession());
            auto *meter = child<QProgressBar>(again.primarySession(), "chatContextMeter");
            // The prompt the next message would extend: the two exchanges, as the model counts them.
            QTRY_VERIFY2(meter->value() > 0, qPrintable(meter->format()));
            QTRY_VERIFY2(qAbs(meter->value() - usedBefore) <= 16,
                         qPrintable(QStringLiteral("%1 (the last reply's statistics: %2)").arg(meter->format()).arg(usedBefore)));
        }
        // The same conversation without its replies' statistics, opened from the file.
        QFile in(file);
        QVERIFY(in.open(QIODevice::ReadOnly));
        QJsonObject doc = QJsonDocument::fromJson(in.readAll()).object();
        in.close();
        QJsonArray turns = doc.value(QStringLiteral("turns")).toArray();
        QVERIFY(!turns.isEmpty());
        for (qsizetype i = 0; i < turns.size(); ++i) {
            QJsonObject turn = turns.at(i).toObject();
            turn.remove(QStringLiteral("stats"));
            turns.replace(i, turn);
        }
        doc.insert(QStringLiteral("turns"), turns);
        QFile out(file);
        QVERIFY(out.open(QIODevice::WriteOnly | QIODevice::Truncate));
        out.write(QJsonDocument(doc).toJson());
        out.close();

        ChatPage page;
        page.setErrorDialogs(false);
        page.show();
        loadDemo(page.primarySession());
        auto *meter = child<QProgressBar>(page.primarySession(), "chatContextMeter");
        QCOMPARE(meter->value(), 0);
        QVERIFY2(page.openConversationFrom(file), qPrintable(page.lastError()));
        QTRY_VERIFY2(qAbs(meter->value() - usedBefore) <= 16,
                     qPrintable(QStringLiteral("%1 (with statistics: %2)").arg(meter->format()).arg(usedBefore)));
        QVERIFY2(meter->format().contains(QStringLiteral("/ 256 tokens")), qPrintable(meter->format()));
    }
};

QTEST_MAIN(TestChatBranches)
#include "tst_chat_branches.moc"
