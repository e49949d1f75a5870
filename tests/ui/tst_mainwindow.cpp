// MainWindow and the Model page, driven offscreen: opening model folders (facts,
// errors, unsupported models), the recent-models list, stale results, and closing
// the window while an inspection runs.

#include <cmath>

#include <QAction>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtEndian>
#include <QtTest>

#include "awq/model/config.h"
#include "mainwindow.h"
#include "modelcontroller.h"
#include "modelfactswidget.h"
#include "modelpage.h"
#include "resourcepaths.h"
#include "benchmarkpage.h"
#include "chatpage.h"
#include "chatsessionwidget.h"
#include "librarypage.h"
#include "quantizehomepage.h"
#include "quantizewizard.h"
#include "quantizeworker.h"
#include "resourcechart.h"
#include <QDialog>
#include <QLineEdit>
#include <QListWidget>

namespace {

struct TinySpec {
    QString modelType = QStringLiteral("llama");
    int hidden = 64;
    int intermediate = 128;
    int layers = 3;
    int heads = 4;
    int kvHeads = 2;
    int vocab = 96;
};

// Appends one zero-filled F16 tensor to a safetensors header/data pair.
void addTensor(QJsonObject &header, qint64 &dataSize, const QString &name, const QList<int> &shape)
{
    qint64 numel = 1;
    QJsonArray dims;
    for (int d : shape) {
        numel *= d;
        dims.append(d);
    }
    const qint64 bytes = numel * 2;
    header.insert(name, QJsonObject{{QStringLiteral("dtype"), QStringLiteral("F16")},
                                    {QStringLiteral("shape"), dims},
                                    {QStringLiteral("data_offsets"), QJsonArray{dataSize, dataSize + bytes}}});
    dataSize += bytes;
}

// A Llama-style folder written by hand: config.json and a model.safetensors holding
// every tensor config.json implies (zeros). No tokenizer unless asked for.
bool writeTinyModel(const QString &folder, const TinySpec &spec = {})
{
    QDir().mkpath(folder);
    const int headDim = spec.hidden / spec.heads;
    const QJsonObject config{
        {QStringLiteral("architectures"), QJsonArray{QStringLiteral("LlamaForCausalLM")}},
        {QStringLiteral("model_type"), spec.modelType},
        {QStringLiteral("hidden_size"), spec.hidden},
        {QStringLiteral("intermediate_size"), spec.intermediate},
        {QStringLiteral("num_hidden_layers"), spec.layers},
        {QStringLiteral("num_attention_heads"), spec.heads},
        {QStringLiteral("num_key_value_heads"), spec.kvHeads},
        {QStringLiteral("vocab_size"), spec.vocab},
        {QStringLiteral("max_position_embeddings"), 256},
        {QStringLiteral("rms_norm_eps"), 1e-6},
        {QStringLiteral("rope_theta"), 10000.0},
        {QStringLiteral("hidden_act"), QStringLiteral("silu")},
        {QStringLiteral("tie_word_embeddings"), false},
        {QStringLiteral("torch_dtype"), QStringLiteral("float16")},
        {QStringLiteral("bos_token_id"), 1},
        {QStringLiteral("eos_token_id"), 2},
    };
    QFile configFile(folder + QStringLiteral("/config.json"));
    if (!configFile.open(QIODevice::WriteOnly))
        return false;
    configFile.write(QJsonDocument(config).toJson());
    configFile.close();

    QJsonObject header;
    qint64 dataSize = 0;
    addTensor(header, dataSize, QStringLiteral("model.embed_tokens.weight"), {spec.vocab, spec.hidden});
    addTensor(header, dataSize, QStringLiteral("model.norm.weight"), {spec.hidden});
    addTensor(header, dataSize, QStringLiteral("lm_head.weight"), {spec.vocab, spec.hidden});
    for (int i = 0; i < spec.layers; ++i) {
        const QString p = QStringLiteral("model.layers.%1.").arg(i);
        addTensor(header, dataSize, p + QStringLiteral("input_layernorm.weight"), {spec.hidden});
        addTensor(header, dataSize, p + QStringLiteral("post_attention_layernorm.weight"), {spec.hidden});
        addTensor(header, dataSize, p + QStringLiteral("self_attn.q_proj.weight"), {spec.heads * headDim, spec.hidden});
        addTensor(header, dataSize, p + QStringLiteral("self_attn.k_proj.weight"), {spec.kvHeads * headDim, spec.hidden});
        addTensor(header, dataSize, p + QStringLiteral("self_attn.v_proj.weight"), {spec.kvHeads * headDim, spec.hidden});
        addTensor(header, dataSize, p + QStringLiteral("self_attn.o_proj.weight"), {spec.hidden, spec.heads * headDim});
        addTensor(header, dataSize, p + QStringLiteral("mlp.gate_proj.weight"), {spec.intermediate, spec.hidden});
        addTensor(header, dataSize, p + QStringLiteral("mlp.up_proj.weight"), {spec.intermediate, spec.hidden});
        addTensor(header, dataSize, p + QStringLiteral("mlp.down_proj.weight"), {spec.hidden, spec.intermediate});
    }
    header.insert(QStringLiteral("__metadata__"), QJsonObject{{QStringLiteral("format"), QStringLiteral("pt")}});
    QByteArray json = QJsonDocument(header).toJson(QJsonDocument::Compact);
    while (json.size() % 8 != 0)
        json.append(' ');
    QByteArray length(8, '\0');
    qToLittleEndian<quint64>(static_cast<quint64>(json.size()), length.data());

    QFile weights(folder + QStringLiteral("/model.safetensors"));
    if (!weights.open(QIODevice::WriteOnly))
        return false;
    weights.write(length);
    weights.write(json);
    weights.write(QByteArray(static_cast<int>(dataSize), '\0'));
    return weights.error() == QFileDevice::NoError;
}

void writeFile(const QString &path, const QByteArray &content)
{
    QFile file(path);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write(content);
}

} // namespace

class TestMainWindow final : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void opensModelAndShowsFacts();
    void modelWithTokenizerHasNoProblems();
    void folderWithoutConfigShowsError();
    void missingFolderShowsError();
    void unknownModelTypeListsSupportedTypes();
    void recentModelsAreUpdatedAndPersisted();
    void staleResultsAreDropped();
    void closingWhileInspectingDoesNotHang();
    void geometryIsPersisted();
    void demoModelLookupHonoursEnvironment();
    void navigationReachesEveryPageAndCarriesTheModel();
    void libraryListsRecentModelsWithTheirFacts();
    void damagedSettingsAreSurvived();
    void openInChatLoadsTheRequestedModel();
    void darkThemeAtRunTimeReachesTheNavigation();
    void quantizedOutputsAppearInTheLibrary();

private:
    QString folder(const QString &name) const { return m_tmp.filePath(name); }

    QTemporaryDir m_tmp;
};

void TestMainWindow::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    QStandardPaths::setTestModeEnabled(true);
    const QString settingsDir = m_tmp.filePath(QStringLiteral("settings"));
    QSettings::setPath(QSettings::NativeFormat, QSettings::UserScope, settingsDir);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, settingsDir);
}

void TestMainWindow::init()
{
    QSettings(QStringLiteral("AWQ Studio"), QStringLiteral("awq-studio")).clear();
}

void TestMainWindow::opensModelAndShowsFacts()
{
    const QString path = folder(QStringLiteral("tiny-llama"));
    QVERIFY(writeTinyModel(path));
    MainWindow window;
    window.show();
    QCOMPARE(window.modelPage()->state(), ModelPage::State::Empty);

    QSignalSpy inspected(window.modelController(), &ModelController::modelInspected);
    window.openModel(path);
    QVERIFY(window.modelController()->isBusy());
    QVERIFY(window.findChild<QWidget *>(QStringLiteral("busyIndicator"))->isVisible());
    QTRY_COMPARE(inspected.count(), 1);
    QCOMPARE(window.modelPage()->state(), ModelPage::State::Loaded);
    QVERIFY(!window.modelController()->isBusy());

    const QString text = window.modelPage()->factsWidget()->plainText();
    QVERIFY2(text.contains(QStringLiteral("Layers: 3")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("llama")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("Hidden size: 64")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("grouped-query")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("F16")), qPrintable(text));
    // No tokenizer.model: the facts still show, with the problem listed.
    QVERIFY2(text.contains(QStringLiteral("Problem:")) && text.contains(QStringLiteral("tokenizer.model")),
             qPrintable(text));
    QVERIFY(window.findChild<QWidget *>(QStringLiteral("problems")) != nullptr);
    QVERIFY(window.windowTitle().contains(QStringLiteral("tiny-llama")));
}

void TestMainWindow::modelWithTokenizerHasNoProblems()
{
    const QString path = folder(QStringLiteral("tiny-llama-tok"));
    // The inspector loads the tokenizer, so a real one: the demo model's (4096 tokens).
    TinySpec spec;
    spec.vocab = 4096;
    QVERIFY(writeTinyModel(path, spec));
    QVERIFY(QFile::copy(ResourcePaths::demoModelFolder() + QStringLiteral("/tokenizer.model"),
                        path + QStringLiteral("/tokenizer.model")));
    writeFile(path + QStringLiteral("/tokenizer_config.json"), QByteArray(R"({"chat_template": "{{ x }}"})"));
    MainWindow window;
    window.openModel(path);
    QTRY_COMPARE(window.modelPage()->state(), ModelPage::State::Loaded);
    const QString text = window.modelPage()->text();
    QVERIFY2(!text.contains(QStringLiteral("Problem:")), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("Chat template: yes")), qPrintable(text));
    QVERIFY(window.findChild<QWidget *>(QStringLiteral("problems")) == nullptr);
}

void TestMainWindow::folderWithoutConfigShowsError()
{
    const QString path = folder(QStringLiteral("no-config"));
    QVERIFY(QDir().mkpath(path));
    MainWindow window;
    window.show();
    QSignalSpy failed(window.modelController(), &ModelController::inspectionFailed);
    window.openModel(path);
    QTRY_COMPARE(failed.count(), 1);
    QCOMPARE(window.modelPage()->state(), ModelPage::State::Failed);
    auto *error = window.findChild<QLabel *>(QStringLiteral("modelError"));
    QVERIFY(error);
    QVERIFY(error->isVisible());
    QVERIFY2(error->text().contains(QStringLiteral("config.json")), qPrintable(error->text()));
    QVERIFY(window.isVisible());
    // A failed folder is not remembered.
    QVERIFY(window.recentModels().isEmpty());
}

void TestMainWindow::missingFolderShowsError()
{
    MainWindow window;
    window.openModel(folder(QStringLiteral("does-not-exist")));
    QTRY_COMPARE(window.modelPage()->state(), ModelPage::State::Failed);
    QVERIFY(window.modelPage()->text().contains(QStringLiteral("does-not-exist")));
}

void TestMainWindow::unknownModelTypeListsSupportedTypes()
{
    const QString path = folder(QStringLiteral("gpt2-like"));
    TinySpec spec;
    spec.modelType = QStringLiteral("gpt2");
    QVERIFY(writeTinyModel(path, spec));
    MainWindow window;
    window.openModel(path);
    QTRY_COMPARE(window.modelPage()->state(), ModelPage::State::Failed);
    const QString message = window.findChild<QLabel *>(QStringLiteral("modelError"))->text();
    QVERIFY2(message.contains(QStringLiteral("gpt2")), qPrintable(message));
    for (const std::string &type : awq::supportedModelTypes())
        QVERIFY2(message.contains(QString::fromStdString(type)), qPrintable(message));
}

void TestMainWindow::recentModelsAreUpdatedAndPersisted()
{
    const QString first = QDir::cleanPath(folder(QStringLiteral("recent-a")));
    const QString second = QDir::cleanPath(folder(QStringLiteral("recent-b")));
    QVERIFY(writeTinyModel(first));
    QVERIFY(writeTinyModel(second));
    {
        MainWindow window;
        for (const QString &path : {first, second, first}) {
            QSignalSpy inspected(window.modelController(), &ModelController::modelInspected);
            window.openModel(path);
            QTRY_COMPARE(inspected.count(), 1);
        }
        QCOMPARE(window.recentModels(), (QStringList{first, second}));
        auto *menu = window.findChild<QMenu *>(QStringLiteral("recentMenu"));
        QVERIFY(menu);
        QVERIFY(menu->isEnabled());
        QStringList inMenu;
        for (QAction *action : menu->actions())
            if (!action->data().toString().isEmpty())
                inMenu << action->data().toString();
        QCOMPARE(inMenu, (QStringList{first, second}));
    }
    // Persisted where QSettings was pointed (under the temporary folder), seen by a new window.
    const QSettings settings(QStringLiteral("AWQ Studio"), QStringLiteral("awq-studio"));
    QVERIFY2(settings.fileName().startsWith(m_tmp.path()), qPrintable(settings.fileName()));
    QCOMPARE(settings.value(QStringLiteral("recentModels")).toStringList(), (QStringList{first, second}));
    MainWindow again;
    QCOMPARE(again.recentModels(), (QStringList{first, second}));
}

void TestMainWindow::staleResultsAreDropped()
{
    QStringList paths;
    for (int i = 0; i < 4; ++i) {
        paths << QDir::cleanPath(folder(QStringLiteral("stale-%1").arg(i)));
        TinySpec spec;
        spec.layers = i + 1;
        QVERIFY(writeTinyModel(paths.last(), spec));
    }
    MainWindow window;
    QSignalSpy inspected(window.modelController(), &ModelController::modelInspected);
    for (const QString &path : paths)
        window.openModel(path);
    QTRY_COMPARE(window.modelPage()->state(), ModelPage::State::Loaded);
    QTest::qWait(200); // give any stale result time to arrive (it must be dropped)
    QCOMPARE(inspected.count(), 1);
    QVERIFY(window.modelPage()->text().contains(QStringLiteral("Layers: 4")));
    QVERIFY(window.windowTitle().contains(QStringLiteral("stale-3")));
}

void TestMainWindow::closingWhileInspectingDoesNotHang()
{
    const QString path = folder(QStringLiteral("closing"));
    TinySpec spec;
    spec.layers = 32;
    QVERIFY(writeTinyModel(path, spec));
    QElapsedTimer timer;
    timer.start();
    for (int i = 0; i < 5; ++i) {
        auto *window = new MainWindow;
        window->show();
        window->openModel(path);
        window->close();
        delete window; // joins the worker thread; the result in flight is dropped
    }
    QVERIFY2(timer.elapsed() < 20000, "closing the window waited far too long");
    QTest::qWait(50); // no late delivery to a deleted window
}

void TestMainWindow::geometryIsPersisted()
{
    {
        MainWindow window;
        window.show();
        window.resize(900, 640);
        QVERIFY(window.close());
    }
    const QSettings settings(QStringLiteral("AWQ Studio"), QStringLiteral("awq-studio"));
    QVERIFY(!settings.value(QStringLiteral("mainWindow/geometry")).toByteArray().isEmpty());
}

void TestMainWindow::demoModelLookupHonoursEnvironment()
{
    const QString data = folder(QStringLiteral("data"));
    QVERIFY(QDir().mkpath(data + QStringLiteral("/models/demo-llama")));
    qputenv("AWQ_STUDIO_DATA", QFile::encodeName(data));
    QCOMPARE(ResourcePaths::dataDirectories().constFirst(), data);
    QCOMPARE(ResourcePaths::demoModelFolder(), QDir::cleanPath(data + QStringLiteral("/models/demo-llama")));
    qunsetenv("AWQ_STUDIO_DATA");
    QVERIFY(!ResourcePaths::dataDirectories().contains(data));
}

// The settings file is the GUI's own input: one edited by hand or damaged (wrong types,
// absurd numbers, NaN, garbage bytes) must not crash the application or leak absurd
// values into the engine; everything falls back to defaults or is clamped.
void TestMainWindow::damagedSettingsAreSurvived()
{
    {
        QSettings settings(QStringLiteral("AWQ Studio"), QStringLiteral("awq-studio"));
        settings.setValue(QStringLiteral("recentModels"), 42);
        settings.setValue(QStringLiteral("libraryFacts"), QStringLiteral("garbage"));
        settings.setValue(QStringLiteral("quantizeResults"),
                          QVariantList{QStringLiteral("x"), 7, QVariantMap{{QStringLiteral("output"), 3}}});
        settings.setValue(QStringLiteral("mainWindow/geometry"), QByteArray("\x01\xd9\xd0\xcb garbage", 14));
        settings.setValue(QStringLiteral("theme"), QStringLiteral("purple"));
        settings.setValue(QStringLiteral("chat/temperature"), QStringLiteral("nan"));
        settings.setValue(QStringLiteral("chat/topP"), -5);
        settings.setValue(QStringLiteral("chat/topK"), QStringLiteral("many"));
        settings.setValue(QStringLiteral("chat/repetitionPenalty"), QStringLiteral("inf"));
        settings.setValue(QStringLiteral("chat/maxNewTokens"), qint64(1) << 50);
        settings.setValue(QStringLiteral("chat/seed"), -1);
        settings.setValue(QStringLiteral("quantizeWizard/bits"), QStringLiteral("many"));
        settings.setValue(QStringLiteral("quantizeWizard/groupSize"), 7);
        settings.setValue(QStringLiteral("quantizeWizard/calibration/kind"), 99);
        settings.setValue(QStringLiteral("quantizeWizard/calibration/nSamples"), -5);
        settings.setValue(QStringLiteral("quantizeWizard/format"), -3);
        settings.setValue(QStringLiteral("quantizeWizard/grid"), 100000);
        settings.setValue(QStringLiteral("quantizeWizard/searchTokens"), qint64(1) << 60);
    }
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    for (const Qt::Key key : {Qt::Key_1, Qt::Key_2, Qt::Key_3, Qt::Key_4, Qt::Key_1})
        QTest::keyClick(&window, key, Qt::ControlModifier);
    // The chat settings the engine will get are within the sampler's ranges.
    const awq::chat::ChatSettings chat = window.chatPage()->settings();
    QVERIFY(std::isfinite(chat.temperature) && chat.temperature >= 0);
    QVERIFY(chat.topP > 0 && chat.topP <= 1);
    QVERIFY(std::isfinite(chat.repetitionPenalty) && chat.repetitionPenalty > 0);
    QVERIFY(chat.maxNewTokens >= 1 && chat.maxNewTokens <= 1000000);
    // The wizard opens on its first page with the damaged choices clamped or ignored.
    QuantizeWizard wizard;
    wizard.show();
    QVERIFY(QTest::qWaitForWindowExposed(&wizard));
    wizard.close();
}

void TestMainWindow::navigationReachesEveryPageAndCarriesTheModel()
{
    const QString demo = ResourcePaths::demoModelFolder();
    QVERIFY(!demo.isEmpty());
    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.openModel(demo);
    QTRY_COMPARE(window.modelPage()->state(), ModelPage::State::Loaded);
    QCOMPARE(window.currentPage(), MainWindow::Page::Library);

    // Ctrl+2: Quantize names the open model.
    QTest::keyClick(&window, Qt::Key_2, Qt::ControlModifier);
    QCOMPARE(window.currentPage(), MainWindow::Page::Quantize);
    QVERIFY(window.quantizePage()->findChild<QLabel *>(QStringLiteral("quantizeHomeModel"))->text().contains(
        QStringLiteral("demo-llama")));
    // Ctrl+3: Chat loads the open model.
    QTest::keyClick(&window, Qt::Key_3, Qt::ControlModifier);
    QCOMPARE(window.currentPage(), MainWindow::Page::Chat);
    QTRY_VERIFY_WITH_TIMEOUT(window.chatPage()->primarySession()->hasModel(), 30000);
    QCOMPARE(QDir::cleanPath(window.chatPage()->primarySession()->modelFolder()), QDir::cleanPath(demo));
    // Ctrl+4: Benchmark has the open model as its folder.
    QTest::keyClick(&window, Qt::Key_4, Qt::ControlModifier);
    QCOMPARE(window.currentPage(), MainWindow::Page::Benchmark);
    bool folderShown = false;
    for (const QLineEdit *edit : window.benchmarkPage()->findChildren<QLineEdit *>())
        folderShown = folderShown || QDir::cleanPath(QDir::fromNativeSeparators(edit->text())) == QDir::cleanPath(demo);
    QVERIFY(folderShown);
    // Ctrl+M: the memory window charts the status bar's samples.
    QTest::keyClick(&window, Qt::Key_M, Qt::ControlModifier);
    auto *memory = window.findChild<QDialog *>(QStringLiteral("memoryWindow"));
    QVERIFY(memory && memory->isVisible());
    QVERIFY(memory->findChild<ResourceChart *>()->sampleCount() >= 1);
    // Ctrl+1: back to the library.
    QTest::keyClick(&window, Qt::Key_1, Qt::ControlModifier);
    QCOMPARE(window.currentPage(), MainWindow::Page::Library);
}

void TestMainWindow::libraryListsRecentModelsWithTheirFacts()
{
    const QString path = folder(QStringLiteral("library-model"));
    QVERIFY(writeTinyModel(path));
    MainWindow window;
    window.show();
    window.openModel(path);
    QTRY_COMPARE(window.modelPage()->state(), ModelPage::State::Loaded);
    QListWidget *list = window.libraryPage()->list();
    QCOMPARE(list->count(), 1);
    const QString entry = list->item(0)->text();
    QVERIFY2(entry.startsWith(QStringLiteral("library-model\n")), qPrintable(entry));
    QVERIFY2(entry.contains(QStringLiteral("llama")) && entry.contains(QStringLiteral("parameters")), qPrintable(entry));
    // No tokenizer: the facts say it cannot be run, and the Chat button is off.
    QVERIFY2(entry.contains(QStringLiteral("cannot be run")), qPrintable(entry));
    QVERIFY(!window.libraryPage()->findChild<QPushButton *>(QStringLiteral("libraryChatButton"))->isEnabled());
    // Remove: gone from the list and the settings.
    list->setCurrentRow(0);
    QTest::mouseClick(window.libraryPage()->findChild<QPushButton *>(QStringLiteral("libraryRemoveButton")),
                      Qt::LeftButton);
    QCOMPARE(list->count(), 0);
    QVERIFY(window.recentModels().isEmpty());
}

// Issue 23, bug 1: "Open in Chat" for an AWQ output while Chat has no model loaded used to
// load the Library's model (arriving on the Chat page) and skip the requested one.
void TestMainWindow::openInChatLoadsTheRequestedModel()
{
    const QString demo = ResourcePaths::demoModelFolder();
    QVERIFY(!demo.isEmpty());
    // A second runnable model: a copy of the demo under another name (as an AWQ output would be).
    const QString other = folder(QStringLiteral("demo-copy-awq"));
    QVERIFY(QDir().mkpath(other));
    for (const QFileInfo &file : QDir(demo).entryInfoList(QDir::Files))
        QVERIFY(QFile::copy(file.absoluteFilePath(), other + QLatin1Char('/') + file.fileName()));

    MainWindow window;
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    window.openModel(demo);
    QTRY_COMPARE(window.modelPage()->state(), ModelPage::State::Loaded);
    ChatSessionWidget *session = window.chatPage()->primarySession();
    QVERIFY(!session->hasModel());

    window.openInChat(other);
    QCOMPARE(window.currentPage(), MainWindow::Page::Chat);
    QTRY_VERIFY_WITH_TIMEOUT(session->hasModel() && !session->isBusy(), 60000);
    QCOMPARE(QDir::cleanPath(session->modelFolder()), QDir::cleanPath(other));
    // The title and the status bar name the model being chatted with, not the Library's.
    QVERIFY2(window.windowTitle().startsWith(QStringLiteral("demo-copy-awq")), qPrintable(window.windowTitle()));
    auto *statusModel = window.findChild<QLabel *>(QStringLiteral("statusModelLabel"));
    QVERIFY(statusModel);
    QVERIFY2(statusModel->text().contains(QStringLiteral("demo-copy-awq")), qPrintable(statusModel->text()));
    window.showPage(MainWindow::Page::Library);
    QVERIFY2(window.windowTitle().startsWith(QStringLiteral("demo-llama")), qPrintable(window.windowTitle()));
    window.showPage(MainWindow::Page::Chat);

    // Asking for another model while one loads: the one asked for last is the one loaded.
    window.openInChat(demo);
    window.openInChat(other);
    QTRY_VERIFY_WITH_TIMEOUT(session->hasModel() && !session->isBusy(), 60000);
    QTest::qWait(200);
    QTRY_VERIFY_WITH_TIMEOUT(session->hasModel() && !session->isBusy(), 60000);
    QCOMPARE(QDir::cleanPath(session->modelFolder()), QDir::cleanPath(other));
}

// Issue 23, bug 7: switching to the dark theme from the View menu darkens the navigation
// list too (it kept the light theme's white).
void TestMainWindow::darkThemeAtRunTimeReachesTheNavigation()
{
    MainWindow window;
    window.resize(1000, 700);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    auto *navigation = window.findChild<QListWidget *>(QStringLiteral("navigation"));
    QVERIFY(navigation);
    const auto themeAction = [&](const QString &name) -> QAction * {
        for (QAction *action : window.findChild<QMenu *>(QStringLiteral("themeMenu"))->actions())
            if (action->data().toString() == name)
                return action;
        return nullptr;
    };
    // Below the last page's entry: the list's own background.
    const auto backgroundLightness = [&] {
        QCoreApplication::processEvents();
        const QImage image = navigation->grab().toImage();
        return image.pixelColor(image.width() / 2, image.height() - 20).lightness();
    };
    themeAction(QStringLiteral("light"))->trigger();
    QVERIFY2(backgroundLightness() > 200, qPrintable(QString::number(backgroundLightness())));
    themeAction(QStringLiteral("dark"))->trigger();
    QVERIFY2(backgroundLightness() < 80, qPrintable(QString::number(backgroundLightness())));
    if (!qEnvironmentVariableIsEmpty("AWQ_SCREENSHOT_DIR"))
        QVERIFY(window.grab().save(qEnvironmentVariable("AWQ_SCREENSHOT_DIR") + QStringLiteral("/app-dark-at-run-time.png")));
    themeAction(QStringLiteral("light"))->trigger();
    QVERIFY2(backgroundLightness() > 200, qPrintable(QString::number(backgroundLightness())));
}

// A finished quantization puts its output in the Library (and the recent models) at once.
void TestMainWindow::quantizedOutputsAppearInTheLibrary()
{
    const QString source = folder(QStringLiteral("lib-source"));
    QVERIFY(writeTinyModel(source));
    const QString output = folder(QStringLiteral("lib-source-awq-w4-g128"));
    QVERIFY(writeTinyModel(output));
    MainWindow window;
    window.show();
    window.startQuantizeWizard(source);
    auto *wizard = window.findChild<QuantizeWizard *>();
    QVERIFY(wizard);
    QuantizeSummary summary;
    summary.outputFolder = output;
    summary.outputBytes = 123456;
    Q_EMIT wizard->quantized(summary);
    QVERIFY(window.recentModels().contains(output));
    QListWidget *list = window.libraryPage()->list();
    bool listed = false;
    for (int i = 0; i < list->count(); ++i)
        listed = listed || (list->item(i)->text().startsWith(QStringLiteral("lib-source-awq-w4-g128\n"))
                            && list->item(i)->text().contains(QStringLiteral("quantized from lib-source")));
    QVERIFY(listed);
    wizard->close();
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
