// The quantization wizard, driven offscreen through its widgets: a full AWQ run on a tiny
// fixture model whose output loads back, a broken model folder stopping the wizard on
// its first page, and a cancelled run leaving nothing behind.

#include <filesystem>
#include <fstream>

#include <fcntl.h>
#include <unistd.h>

#include <QAbstractButton>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFile>
#include <QTimer>
#include <QLabel>
#include <QMessageBox>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QScopeGuard>
#include <QSpinBox>
#include <QSettings>
#include <QtTest>

#include "awq/runtime/loaded_model.h"
#include "fixture_model.h"
#include "layerlosschart.h"
#include "appsettings.h"
#include "quantizepagehelpers.h"
#include "awq/runtime/devices.h"
#include "quantizewizard.h"
#include "quantizeworker.h"

namespace fs = std::filesystem;

namespace {

QString qpath(const fs::path &path)
{
    return QFile::decodeName(QByteArray::fromStdString(path.string()));
}

template <typename T>
T *child(QWidget *parent, const char *name)
{
    T *widget = parent->findChild<T *>(QString::fromLatin1(name));
    if (!widget)
        qWarning("no widget named %s", name);
    return widget;
}

// A radio button or check box reacts to clicks on its indicator and label only, and a
// layout may make it much wider than those: click near its left edge, not its centre.
void clickIndicator(QAbstractButton *button)
{
    QTest::mouseClick(button, Qt::LeftButton, Qt::NoModifier, QPoint(8, button->height() / 2));
}

void replaceText(QWidget *widget, const QString &text)
{
    widget->setFocus();
    QTest::keyClick(widget, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClick(widget, Qt::Key_Delete);
    QTest::keyClicks(widget, text);
}

// With AWQ_SCREENSHOT_DIR set, saves the wizard as <dir>/<name>.png (docs/screenshots).
void snap(QWidget &wizard, const char *name)
{
    const QString dir = qEnvironmentVariable("AWQ_SCREENSHOT_DIR");
    if (dir.isEmpty())
        return;
    QCoreApplication::processEvents();
    wizard.grab().save(dir + QLatin1Char('/') + QLatin1String(name) + QStringLiteral(".png"));
}

// Answers the next message box named `name` with `button` as soon as it shows; counts it in `asked`.
void answerBox(const QString &name, QMessageBox::StandardButton button, int *asked)
{
    auto *timer = new QTimer;
    timer->setInterval(10);
    QObject::connect(timer, &QTimer::timeout, timer, [timer, name, button, asked] {
        auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
        if (!box || box->objectName() != name)
            return;
        ++*asked;
        timer->stop();
        timer->deleteLater();
        box->button(button)->click();
    });
    timer->start();
    QTimer::singleShot(10000, timer, [timer] { timer->deleteLater(); });
}

bool hasSiblingWithPrefix(const fs::path &out)
{
    const std::string prefix = out.filename().string();
    for (const auto &entry : fs::directory_iterator(out.parent_path()))
        if (entry.path().filename().string().rfind(prefix, 0) == 0)
            return true;
    return false;
}

} // namespace

class TestQuantizeWizard : public QObject
{
    Q_OBJECT

    fs::path m_root, m_model, m_bigModel, m_calib;

    // Model page -> Calibration (built-in) -> Configuration (group size 32) -> Output.
    static void walkToOutputPage(QuantizeWizard &wizard)
    {
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        QAbstractButton *next = wizard.button(QWizard::NextButton);
        QTRY_VERIFY(next->isEnabled());
        QTest::mouseClick(next, Qt::LeftButton);
        QTRY_VERIFY(next->isEnabled());
        QTest::mouseClick(next, Qt::LeftButton);
        QComboBox *groupSize = child<QComboBox>(&wizard, "groupSizeCombo");
        groupSize->setFocus();
        QTest::keyClick(groupSize, Qt::Key_Home);
        QTRY_VERIFY(next->isEnabled());
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(wizard.currentId(), int(QuantizeWizard::OutputPageId));
    }

    // Fills every page through its widgets and stops on the Run page.
    void walkToRunPage(QuantizeWizard &wizard, const fs::path &model, const fs::path &out)
    {
        QAbstractButton *next = wizard.button(QWizard::NextButton);
        QVERIFY(next);

        replaceText(child<QLineEdit>(&wizard, "modelPathEdit"), qpath(model));
        QTRY_VERIFY(next->isEnabled());
        snap(wizard, "wizard-1-model");
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(wizard.currentId(), int(QuantizeWizard::CalibrationPageId));

        clickIndicator(child<QRadioButton>(&wizard, "calibTextRadio"));
        QVERIFY(child<QRadioButton>(&wizard, "calibTextRadio")->isChecked());
        QVERIFY(!next->isEnabled()); // no file chosen yet
        replaceText(child<QLineEdit>(&wizard, "calibPathEdit"), qpath(m_calib));
        replaceText(child<QSpinBox>(&wizard, "seqLenSpin"), QStringLiteral("64"));
        QCOMPARE(child<QSpinBox>(&wizard, "seqLenSpin")->value(), 64);
        QTest::mouseClick(child<QPushButton>(&wizard, "calibCheckButton"), Qt::LeftButton);
        QLabel *calibStatus = child<QLabel>(&wizard, "calibStatusLabel");
        QTRY_VERIFY_WITH_TIMEOUT(calibStatus->text().contains(QStringLiteral("blocks")), 20000);
        QVERIFY2(!calibStatus->property("error").toBool(), qPrintable(calibStatus->text()));
        // The chosen file's figures, not those of the built-in set checked on arrival.
        QVERIFY2(calibStatus->text().contains(QStringLiteral("calib.txt")), qPrintable(calibStatus->text()));
        QVERIFY(next->isEnabled());
        snap(wizard, "wizard-2-calibration");
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(wizard.currentId(), int(QuantizeWizard::ConfigPageId));

        QComboBox *groupSize = child<QComboBox>(&wizard, "groupSizeCombo");
        groupSize->setFocus();
        QTest::keyClick(groupSize, Qt::Key_Home);
        QCOMPARE(groupSize->currentData().toInt(), 32);
        QVERIFY2(next->isEnabled(), qPrintable(child<QLabel>(&wizard, "configStatusLabel")->text()));
        snap(wizard, "wizard-3-configuration");
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(wizard.currentId(), int(QuantizeWizard::OutputPageId));

        replaceText(child<QLineEdit>(&wizard, "outputPathEdit"), qpath(out));
        QVERIFY2(next->isEnabled(), qPrintable(child<QLabel>(&wizard, "outputStatusLabel")->text()));
        snap(wizard, "wizard-4-output");
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(wizard.currentId(), int(QuantizeWizard::RunPageId));
    }

private Q_SLOTS:
    // Every test starts from the pages' defaults, not the settings an earlier run remembered.
    void init()
    {
        QSettings(AppSettings::organization(), AppSettings::application()).remove(QStringLiteral("quantizeWizard"));
    }

    void initTestCase()
    {
        m_root = awq::test::makeTempDir("quantize-wizard");
        m_model = awq::test::makeFixtureModel(m_root / "model"); // hidden 64: group size 32
        // The source model's own measured perplexity, as the bundled demo model has.
        std::ofstream(m_model / "evaluation.json") << "{\"perplexity\": 115.9, \"seq_len\": 64}\n";
        awq::test::FixtureSpec big;
        big.numLayers = 16;
        big.seed = 99;
        m_bigModel = awq::test::makeFixtureModel(m_root / "model-big", big);
        m_calib = m_root / "calib.txt";
        std::ofstream calib(m_calib);
        for (int i = 0; i < 80; ++i)
            calib << "The old sailor " << i << " walked along the long road before the rain began.\n";
    }

    void quantizesAndTheOutputLoads()
    {
        QuantizeWizard wizard;
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        const fs::path out = m_root / "out-awq";
        walkToRunPage(wizard, m_model, out);
        if (QTest::currentTestFailed())
            return;

        QAbstractButton *finish = wizard.button(QWizard::FinishButton);
        QVERIFY(!finish->isEnabled());
        QTest::mouseClick(child<QPushButton>(&wizard, "startButton"), Qt::LeftButton);
        QLabel *result = child<QLabel>(&wizard, "runResultLabel");
        QTRY_VERIFY2_WITH_TIMEOUT(finish->isEnabled() || result->property("error").toBool(),
                                  qPrintable(result->text()), 120000);
        QVERIFY2(finish->isEnabled(), qPrintable(result->text()));
        // The live chart holds one point per layer; AWQ never loses to RTN (s = 1 is a candidate).
        auto *chart = child<LayerLossChart>(&wizard, "layerLossChart");
        QCOMPARE(chart->layerCount(), 2);
        for (int layer = 0; layer < 2; ++layer) {
            const QPointF loss = chart->layerLoss(layer);
            QVERIFY(loss.x() > 0);
            QVERIFY(loss.y() <= loss.x());
        }
        QCOMPARE(child<QProgressBar>(&wizard, "runProgress")->value(),
                 child<QProgressBar>(&wizard, "runProgress")->maximum());
        QVERIFY(result->text().contains(QStringLiteral("smaller")));
        const QString log = child<QPlainTextEdit>(&wizard, "runLog")->toPlainText();
        QVERIFY2(log.contains(QStringLiteral("layer 0 ")) && log.contains(QStringLiteral("RTN")) &&
                     log.contains(QStringLiteral("-> AWQ")),
                 qPrintable(log));

        // The summary's buttons: Compare Perplexity measures both models on the held-out text.
        QPushButton *perplexity = child<QPushButton>(&wizard, "runPerplexityButton");
        QVERIFY(perplexity->isVisible() && child<QPushButton>(&wizard, "runChatButton")->isVisible());
        QTest::mouseClick(perplexity, Qt::LeftButton);
        QLabel *perplexityLabel = child<QLabel>(&wizard, "runPerplexityLabel");
        QTRY_VERIFY_WITH_TIMEOUT(perplexityLabel->text().contains(QStringLiteral("→")), 60000);
        QVERIFY2(!perplexityLabel->property("error").toBool() && perplexityLabel->text().contains(QStringLiteral("windows")),
                 qPrintable(perplexityLabel->text()));
        snap(wizard, "wizard-5-run");

        const awq::LoadedModel loaded = awq::loadModel(out);
        QVERIFY(loaded.config.quantization.present);
        // Issue 23, bug 12: the source's evaluation.json describes the source, not this output.
        QVERIFY2(!fs::exists(out / "evaluation.json"), "the AWQ output copied the source model's evaluation.json");
        QVERIFY(fs::exists(out / "tokenizer.model"));
        QCOMPARE(loaded.config.quantization.groupSize, 32);

        // A second wizard remembers the run's choices (calibration file, group size 32)...
        QuantizeWizard again(qpath(m_model));
        again.show();
        QVERIFY(QTest::qWaitForWindowExposed(&again));
        QAbstractButton *next = again.button(QWizard::NextButton);
        QTRY_VERIFY(next->isEnabled()); // once the prefilled folder is inspected
        QTest::mouseClick(next, Qt::LeftButton);
        QVERIFY(child<QRadioButton>(&again, "calibTextRadio")->isChecked());
        QCOMPARE(child<QLineEdit>(&again, "calibPathEdit")->text(), qpath(m_calib));
        QCOMPARE(child<QSpinBox>(&again, "seqLenSpin")->value(), 64);
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(again.currentId(), int(QuantizeWizard::ConfigPageId));
        QComboBox *groupSize = child<QComboBox>(&again, "groupSizeCombo");
        QCOMPARE(groupSize->currentData().toInt(), 32);
        // ... a group size that does not fit the model is refused on the page ...
        groupSize->setFocus();
        QTest::keyClick(groupSize, Qt::Key_End);
        QCOMPARE(groupSize->currentData().toInt(), 128);
        QVERIFY(!next->isEnabled()); // group size 128 does not divide hidden 64
        QLabel *configStatus = child<QLabel>(&again, "configStatusLabel");
        QVERIFY2(configStatus->text().contains(QStringLiteral("does not divide")), qPrintable(configStatus->text()));
        // ... and a linear name that matches nothing too.
        QLineEdit *skip = child<QLineEdit>(&again, "skipModulesEdit");
        QTest::keyClick(groupSize, Qt::Key_Home);
        QVERIFY(next->isEnabled());
        replaceText(skip, QStringLiteral("mlp.no_such_proj"));
        QVERIFY(!next->isEnabled());
        QVERIFY2(configStatus->text().contains(QStringLiteral("no_such_proj")), qPrintable(configStatus->text()));
        replaceText(skip, QStringLiteral("down_proj"));
        // The output folder exists already: the wizard must be told to overwrite it.
        QTest::keyClick(groupSize, Qt::Key_Home);
        QVERIFY(next->isEnabled());
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(again.currentId(), int(QuantizeWizard::OutputPageId));
        replaceText(child<QLineEdit>(&again, "outputPathEdit"), qpath(out));
        QCheckBox *overwrite = child<QCheckBox>(&again, "overwriteCheck");
        QVERIFY(overwrite->isVisible());
        QVERIFY(!next->isEnabled());
        clickIndicator(overwrite);
        QVERIFY(overwrite->isChecked());
        QVERIFY(next->isEnabled());
    }

    void modelMemoryJsonlFieldsAndPreview()
    {
        const fs::path jsonl = m_root / "calib.jsonl";
        {
            std::ofstream out(jsonl);
            for (int i = 0; i < 40; ++i)
                out << "{\"id\": " << i << ", \"content\": \"The old sailor " << i
                    << " walked along the long road.\", \"source\": \"test\"}\n";
        }
        QuantizeWizard wizard(qpath(m_model));
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        QAbstractButton *next = wizard.button(QWizard::NextButton);
        QTRY_VERIFY(next->isEnabled());
        // The Model page estimates memory and names the device.
        const QString memory = child<QLabel>(&wizard, "modelMemoryLabel")->text();
        QVERIFY2(memory.contains(QStringLiteral("Quantizing on this CPU")), qPrintable(memory));
        QVERIFY2(memory.contains(QStringLiteral("4-bit")) && memory.contains(QStringLiteral("Device")), qPrintable(memory));
        // The device box offers the CPU first, then each GPU this LibTorch can use; the run takes the choice.
        QComboBox *device = child<QComboBox>(&wizard, "quantizeDeviceBox");
        QCOMPARE(device->itemData(0).toString(), QStringLiteral("cpu"));
        QCOMPARE(device->count(), int(awq::availableDevices().size()));
        QCOMPARE(wizard.options().device, std::string("cpu"));
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(wizard.currentId(), int(QuantizeWizard::CalibrationPageId));
        QTRY_VERIFY(child<QPushButton>(&wizard, "calibCheckButton")->isEnabled()); // the built-in set is checked first

        clickIndicator(child<QRadioButton>(&wizard, "calibJsonlRadio"));
        QVERIFY(child<QRadioButton>(&wizard, "calibJsonlRadio")->isChecked());
        replaceText(child<QLineEdit>(&wizard, "calibPathEdit"), qpath(jsonl));
        // The field list holds the string fields of the file's lines; "text" is not one of them.
        QComboBox *field = child<QComboBox>(&wizard, "jsonFieldCombo");
        QStringList offered;
        for (int i = 0; i < field->count(); ++i)
            offered << field->itemText(i);
        QVERIFY2(offered == (QStringList{QStringLiteral("content"), QStringLiteral("source")}), qPrintable(offered.join(QLatin1Char('|'))));
        QCOMPARE(field->currentText(), QStringLiteral("content"));
        replaceText(child<QSpinBox>(&wizard, "seqLenSpin"), QStringLiteral("32"));
        QTest::mouseClick(child<QPushButton>(&wizard, "calibCheckButton"), Qt::LeftButton);
        QLabel *status = child<QLabel>(&wizard, "calibStatusLabel");
        QTRY_VERIFY_WITH_TIMEOUT(status->text().contains(QStringLiteral("blocks")), 20000);
        QVERIFY2(status->text().contains(QStringLiteral("needs about")), qPrintable(status->text()));
        const QString preview = child<QPlainTextEdit>(&wizard, "calibPreview")->toPlainText();
        QVERIFY2(preview.startsWith(QStringLiteral("1. The old sailor 0 walked")), qPrintable(preview));
        QVERIFY(preview.contains(QStringLiteral("3. The old sailor 2")));
    }

    void brokenModelFolderStopsOnTheFirstPage()
    {
        const fs::path broken = m_root / "not-a-model";
        fs::create_directories(broken);
        std::ofstream(broken / "README.md") << "no config here\n";

        QuantizeWizard wizard;
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        replaceText(child<QLineEdit>(&wizard, "modelPathEdit"), qpath(broken));
        QLabel *status = child<QLabel>(&wizard, "modelStatusLabel");
        // Inspection runs on a worker thread: wait for its verdict.
        QTRY_VERIFY(status->property("error").toBool());
        QVERIFY2(status->text().contains(QStringLiteral("config.json")), qPrintable(status->text()));
        QVERIFY(!wizard.button(QWizard::NextButton)->isEnabled());

        // An already-quantized model is refused with its own message.
        replaceText(child<QLineEdit>(&wizard, "modelPathEdit"), qpath(m_root / "out-awq"));
        if (fs::exists(m_root / "out-awq")) {
            QTRY_VERIFY2(status->text().contains(QStringLiteral("already quantized")), qPrintable(status->text()));
            QVERIFY(status->property("error").toBool());
            QVERIFY(!wizard.button(QWizard::NextButton)->isEnabled());
        }

        replaceText(child<QLineEdit>(&wizard, "modelPathEdit"), qpath(m_model));
        QTRY_VERIFY(wizard.button(QWizard::NextButton)->isEnabled());
        QVERIFY2(!status->property("error").toBool(), qPrintable(status->text()));
    }

    // The GUI thread keeps serving events while the engine works: a 5 ms timer's ticks
    // arrive without long gaps for the whole run.
    void guiStaysResponsiveDuringARun()
    {
        QuantizeWizard wizard;
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        const fs::path out = m_root / "out-responsive";
        walkToRunPage(wizard, m_bigModel, out);
        if (QTest::currentTestFailed())
            return;

        QElapsedTimer clock;
        qint64 last = 0, worstGapMs = 0;
        int ticks = 0;
        QTimer timer;
        timer.setInterval(5);
        connect(&timer, &QTimer::timeout, &wizard, [&] {
            const qint64 now = clock.elapsed();
            worstGapMs = std::max(worstGapMs, now - last);
            last = now;
            ++ticks;
        });
        clock.start();
        timer.start();
        QTest::mouseClick(child<QPushButton>(&wizard, "startButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!wizard.isRunning(), 120000);
        const qint64 runMs = clock.elapsed();
        timer.stop();
        qInfo("run %lld ms, %d timer ticks, worst gap %lld ms", runMs, ticks, worstGapMs);
        QVERIFY2(wizard.button(QWizard::FinishButton)->isEnabled(),
                 qPrintable(child<QLabel>(&wizard, "runResultLabel")->text()));
        QVERIFY(ticks > 10);
        QVERIFY2(worstGapMs < 500, qPrintable(QString("the GUI thread stalled for %1 ms").arg(worstGapMs)));
    }

    void cancelLeavesNothingBehind()
    {
        QuantizeWizard wizard;
        wizard.setConfirmCancel(false);
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        const fs::path out = m_root / "out-cancelled";
        walkToRunPage(wizard, m_bigModel, out);
        if (QTest::currentTestFailed())
            return;

        QPushButton *cancel = child<QPushButton>(&wizard, "cancelButton");
        QVERIFY(!cancel->isEnabled());
        QTest::mouseClick(child<QPushButton>(&wizard, "startButton"), Qt::LeftButton);
        QVERIFY(cancel->isEnabled());
        // Cancel from the first progress event of the layer loop, as the user would.
        bool clicked = false;
        connect(wizard.controller(), &QuantizeController::progress, &wizard,
                [&](const QString &, qint64 layer) {
                    if (layer >= 0 && !clicked) {
                        clicked = true;
                        QTest::mouseClick(cancel, Qt::LeftButton);
                    }
                });
        QTRY_VERIFY_WITH_TIMEOUT(clicked, 30000);
        QLabel *result = child<QLabel>(&wizard, "runResultLabel");
        QTRY_VERIFY_WITH_TIMEOUT(!wizard.isRunning(), 60000);
        QVERIFY2(result->text().contains(QStringLiteral("Cancelled")), qPrintable(result->text()));
        // Issue 23, bug 14: the stopped run's progress and time left do not stay on the page.
        QCOMPARE(child<QProgressBar>(&wizard, "runProgress")->value(), 0);
        QVERIFY2(child<QLabel>(&wizard, "runEtaLabel")->text().isEmpty(), qPrintable(child<QLabel>(&wizard, "runEtaLabel")->text()));
        QVERIFY(!wizard.button(QWizard::FinishButton)->isEnabled());
        QVERIFY(child<QPushButton>(&wizard, "startButton")->isEnabled());
        QVERIFY(!fs::exists(out));
        QVERIFY(!hasSiblingWithPrefix(out));
    }

    // The page titles say where the user is; a preset fills the configuration, and editing
    // a field afterwards turns the preset back to "Custom".
    void presetsAndTheStepIndicator()
    {
        QuantizeWizard wizard(qpath(m_model));
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        QVERIFY2(wizard.currentPage()->title().startsWith(QStringLiteral("Step 1 of 5")),
                 qPrintable(wizard.currentPage()->title()));
        QAbstractButton *next = wizard.button(QWizard::NextButton);
        QTRY_VERIFY(next->isEnabled());
        QTest::mouseClick(next, Qt::LeftButton);
        QTRY_VERIFY(next->isEnabled());
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(wizard.currentId(), int(QuantizeWizard::ConfigPageId));
        QVERIFY(wizard.currentPage()->title().startsWith(QStringLiteral("Step 3 of 5")));
        auto *preset = child<QComboBox>(&wizard, "presetCombo");
        QVERIFY(preset);
        preset->setFocus();
        QTest::keyClick(preset, Qt::Key_Down);
        QTest::keyClick(preset, Qt::Key_Down);
        QCOMPARE(preset->currentIndex(), 2);
        awq::QuantOptions o = wizard.options();
        QCOMPARE(o.version, std::string("gemv"));
        QCOMPARE(o.quantizer.bits, 4);
        QCOMPARE(o.quantizer.groupSize, int64_t(128));
        QTest::keyClick(preset, Qt::Key_Down);
        o = wizard.options();
        QCOMPARE(o.quantizer.bits, 3);
        QCOMPARE(o.format, awq::OutputFormat::FakeQuant);
        replaceText(child<QSpinBox>(&wizard, "bitsSpin"), QStringLiteral("4"));
        QCOMPARE(preset->currentIndex(), 0); // edited by hand: Custom
    }

    // Issue 23, bug 9: Esc asks before closing the wizard; "Stay" keeps it and its choices.
    void escapeAsksBeforeClosing()
    {
        QuantizeWizard wizard(qpath(m_model));
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        QTRY_VERIFY(wizard.button(QWizard::NextButton)->isEnabled());
        int asked = 0;
        answerBox(QStringLiteral("closeWizardBox"), QMessageBox::No, &asked);
        QTest::keyClick(child<QLineEdit>(&wizard, "modelPathEdit"), Qt::Key_Escape);
        QCOMPARE(asked, 1);
        QVERIFY2(wizard.isVisible(), "Esc closed the wizard without asking");
        QCOMPARE(child<QLineEdit>(&wizard, "modelPathEdit")->text(), qpath(m_model));
        answerBox(QStringLiteral("closeWizardBox"), QMessageBox::Yes, &asked);
        QTest::keyClick(child<QLineEdit>(&wizard, "modelPathEdit"), Qt::Key_Escape);
        QCOMPARE(asked, 2);
        QVERIFY(!wizard.isVisible());
    }

    // Issue 23, bug 10: a missing calibration file stops Next at once; the JSON field picked
    // for one file does not carry over to the next; errors name the wizard's fields, not
    // command-line options.
    void calibrationProblemsShowBeforeNext()
    {
        const fs::path first = m_root / "fields-a.jsonl";
        const fs::path second = m_root / "fields-b.jsonl";
        std::ofstream(first) << "{\"content\": \"The old sailor walked.\", \"source\": \"a\"}\n";
        std::ofstream(second) << "{\"source\": \"b\", \"text\": \"The old sailor walked along the road.\"}\n";
        QuantizeWizard wizard(qpath(m_model));
        wizard.show();
        QVERIFY(QTest::qWaitForWindowExposed(&wizard));
        QAbstractButton *next = wizard.button(QWizard::NextButton);
        QTRY_VERIFY(next->isEnabled());
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(wizard.currentId(), int(QuantizeWizard::CalibrationPageId));

        clickIndicator(child<QRadioButton>(&wizard, "calibTextRadio"));
        replaceText(child<QLineEdit>(&wizard, "calibPathEdit"), qpath(m_root / "no-such-calib.txt"));
        QLabel *status = child<QLabel>(&wizard, "calibStatusLabel");
        QVERIFY2(!next->isEnabled(), "Next is on with a calibration file that does not exist");
        QVERIFY2(status->text().contains(QStringLiteral("does not exist")), qPrintable(status->text()));
        QVERIFY(status->property("error").toBool());

        clickIndicator(child<QRadioButton>(&wizard, "calibJsonlRadio"));
        replaceText(child<QLineEdit>(&wizard, "calibPathEdit"), qpath(first));
        QComboBox *field = child<QComboBox>(&wizard, "jsonFieldCombo");
        QCOMPARE(field->currentText(), QStringLiteral("content"));
        field->setCurrentText(QStringLiteral("source"));
        replaceText(child<QLineEdit>(&wizard, "calibPathEdit"), qpath(second));
        QCOMPARE(field->currentText(), QStringLiteral("text"));

        // A field the file does not have: the check's error speaks of the JSON field box.
        field->setCurrentText(QStringLiteral("body"));
        QTest::mouseClick(child<QPushButton>(&wizard, "calibCheckButton"), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(status->property("error").toBool() && status->text().contains(QStringLiteral("body")),
                                 20000);
        QVERIFY2(!status->text().contains(QStringLiteral("--")), qPrintable(status->text()));
        QVERIFY2(status->text().contains(QStringLiteral("JSON field")), qPrintable(status->text()));

        // The configuration page: 3 bits in a packed checkpoint names the output kind.
        field->setCurrentText(QStringLiteral("text"));
        QTRY_VERIFY(next->isEnabled());
        QTest::mouseClick(next, Qt::LeftButton);
        QCOMPARE(wizard.currentId(), int(QuantizeWizard::ConfigPageId));
        QComboBox *groupSize = child<QComboBox>(&wizard, "groupSizeCombo");
        groupSize->setFocus();
        QTest::keyClick(groupSize, Qt::Key_Home); // 32: fits the fixture's hidden size 64
        replaceText(child<QSpinBox>(&wizard, "bitsSpin"), QStringLiteral("3"));
        const QString config = child<QLabel>(&wizard, "configStatusLabel")->text();
        QVERIFY(!next->isEnabled());
        QVERIFY2(!config.contains(QStringLiteral("--")), qPrintable(config));
        QVERIFY2(config.contains(QStringLiteral("Output: Fake-quant")), qPrintable(config));
    }

    // Issue 23, bug 11: an output folder that cannot be written stops Next on the Output
    // page; a model beside which nothing can be written gets a default output elsewhere.
    void outputFolderMustBeWritable()
    {
        QuantizeWizard wizard(qpath(m_model));
        walkToOutputPage(wizard);
        if (QTest::currentTestFailed())
            return;
        QAbstractButton *next = wizard.button(QWizard::NextButton);
        QVERIFY(next->isEnabled()); // the default, beside the (writable) model folder
        QVERIFY(child<QLineEdit>(&wizard, "outputPathEdit")->text().startsWith(qpath(m_root)));

        // /proc takes no new files, not even from root.
        replaceText(child<QLineEdit>(&wizard, "outputPathEdit"), QStringLiteral("/proc/1/model-awq"));
        QLabel *status = child<QLabel>(&wizard, "outputStatusLabel");
        QVERIFY2(!next->isEnabled(), qPrintable(status->text()));
        QVERIFY2(status->text().contains(QStringLiteral("cannot be written")), qPrintable(status->text()));

        QVERIFY(!quantui::canCreateIn(QStringLiteral("/proc/1/model-awq")));
        QVERIFY(quantui::canCreateIn(qpath(m_root / "not-yet" / "deeper")));
        const QString fallback = quantui::defaultOutputParent(QStringLiteral("/proc/1/demo-llama"));
        QVERIFY2(!fallback.startsWith(QStringLiteral("/proc")), qPrintable(fallback));
        QCOMPARE(quantui::defaultOutputParent(qpath(m_model)), qpath(m_root));
    }

    // Issue 23, bug 11: the Output page's default for a model beside which nothing can be
    // written (the bundled demo in a read-only data folder) is elsewhere, and Next is on.
    // The model is reached as /proc/self/fd/N: its parent takes no files, even from root.
    void defaultOutputAvoidsAReadOnlyModelFolder()
    {
        const int fd = ::open(m_model.c_str(), O_RDONLY | O_DIRECTORY);
        QVERIFY(fd >= 0);
        const auto closeFd = qScopeGuard([fd] { ::close(fd); });
        const QString model = QStringLiteral("/proc/self/fd/%1").arg(fd);
        QVERIFY(!quantui::canCreateIn(QStringLiteral("/proc/self/fd")));
        QuantizeWizard wizard(model);
        walkToOutputPage(wizard);
        if (QTest::currentTestFailed())
            return;
        const QString out = child<QLineEdit>(&wizard, "outputPathEdit")->text();
        QVERIFY2(!out.startsWith(QStringLiteral("/proc")), qPrintable(out));
        QVERIFY2(out.endsWith(QStringLiteral("/%1-awq-w4-g32").arg(fd)), qPrintable(out));
        QVERIFY2(wizard.button(QWizard::NextButton)->isEnabled(),
                 qPrintable(child<QLabel>(&wizard, "outputStatusLabel")->text()));
    }
};

QTEST_MAIN(TestQuantizeWizard)
#include "tst_quantize_wizard.moc"
