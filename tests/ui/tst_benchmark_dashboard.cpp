// The benchmark dashboard, driven offscreen through its widgets: a short benchmark of the
// synthetic "tiny" shape fills the table and the charts with the runner's numbers; a run
// cancelled midway leaves the page usable and the earlier results in place; saved JSON
// loads back with identical rows and a broken file is named in the error; the charts
// export as PNG; a plan that cannot fit in memory is refused before it runs; and the
// perplexity column on the bundled demo model.
//
// With AWQ_SCREENSHOT_DIR set, saves the page after the tiny run as
// <dir>/benchmark-dashboard.png (docs/screenshots).

#include <algorithm>
#include <cmath>

#include <QAbstractButton>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QDir>
#include <QFile>
#include <QFileDialog>
#include <QImage>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRadioButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QtCharts/QBarSet>
#include <QtCharts/QChartView>
#include <QtTest>

#include "benchmarkcharts.h"
#include "benchmarkpage.h"
#include "benchmarktablemodel.h"
#include "benchmarkworker.h"
#include "resourcepaths.h"

using awq::bench::BenchRow;
using awq::bench::Variant;
using Kind = BenchmarkCharts::Kind;

namespace {

template <typename T>
T *child(QWidget *parent, const char *name)
{
    T *widget = parent->findChild<T *>(QString::fromLatin1(name));
    if (!widget)
        qWarning("no widget named %s", name);
    return widget;
}

void replaceText(QWidget *widget, const QString &text)
{
    widget->setFocus();
    QTest::keyClick(widget, Qt::Key_A, Qt::ControlModifier);
    QTest::keyClick(widget, Qt::Key_Delete);
    QTest::keyClicks(widget, text);
}

void click(QWidget *page, const char *name)
{
    auto *button = child<QAbstractButton>(page, name);
    QVERIFY2(button && button->isEnabled(), name);
    QTest::mouseClick(button, Qt::LeftButton);
}

// Answers the next file dialog the page opens as a user would: enters `path` as the file
// name and presses the dialog's accept button (Save, Open or Choose).
void answerNextFileDialog(const QString &path)
{
    auto *poll = new QTimer;
    poll->setInterval(20);
    QObject::connect(poll, &QTimer::timeout, poll, [poll, path] {
        auto *dialog = qobject_cast<QFileDialog *>(QApplication::activeModalWidget());
        if (!dialog)
            return;
        poll->stop();
        poll->deleteLater();
        auto *name = dialog->findChild<QLineEdit *>(QStringLiteral("fileNameEdit"));
        auto *buttons = dialog->findChild<QDialogButtonBox *>(QStringLiteral("buttonBox"));
        QAbstractButton *accept = nullptr;
        for (QAbstractButton *button : buttons ? buttons->buttons() : QList<QAbstractButton *>())
            if (buttons->buttonRole(button) == QDialogButtonBox::AcceptRole)
                accept = button;
        if (!name || !accept) {
            qWarning("the file dialog has no file name field or accept button");
            dialog->reject();
            return;
        }
        name->setText(QDir::toNativeSeparators(path));
        QTest::mouseClick(accept, Qt::LeftButton);
        if (dialog->isVisible()) {
            qWarning("the file dialog did not accept %s", qPrintable(path));
            dialog->reject();
        }
    });
    poll->start();
}

// Clicks a radio button or check box on its indicator (the widget may be wider than its
// label, and a click beside the label does nothing).
void clickIndicator(QAbstractButton *button)
{
    QTest::mouseClick(button, Qt::LeftButton, {}, QPoint(8, button->height() / 2));
}

QStringList rowTexts(const QAbstractItemModel *model, int row)
{
    QStringList cells;
    for (int c = BenchmarkTableModel::VersionColumn; c < BenchmarkTableModel::ColumnCount; ++c)
        cells << model->index(row, c).data().toString();
    return cells;
}

double cellValue(const QAbstractItemModel *model, int row, int column)
{
    return model->index(row, column).data(BenchmarkTableModel::ValueRole).toDouble();
}

const BenchRow &rowOf(const awq::bench::BenchReport &report, Variant variant, int64_t prefill)
{
    for (const BenchRow &row : report.rows)
        if (row.variant == variant && row.prefillLength == prefill)
            return row;
    qFatal("no row for prefill %lld", static_cast<long long>(prefill));
}

// Whether every bar set's colour appears in the top `band` rows of `image`: the builds'
// legend (coloured squares above the charts) is in the picture.
bool showsLegend(const QImage &image, int band, const QList<QBarSet *> &sets)
{
    for (QBarSet *set : sets) { // QBarSet::color() is not const
        bool found = false;
        for (int y = 0; y < std::min(band, image.height()) && !found; ++y)
            for (int x = 0; x < image.width() && !found; ++x)
                found = image.pixelColor(x, y).rgb() == set->color().rgb();
        if (!found)
            return false;
    }
    return !sets.isEmpty();
}

} // namespace

class TestBenchmarkDashboard : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    std::unique_ptr<BenchmarkPage> m_page;

    QString path(const QString &name) const { return m_dir.filePath(name); }
    QAbstractItemModel *table() const { return child<QTableView>(m_page.get(), "resultsTable")->model(); }
    BenchmarkCharts *charts() const { return child<BenchmarkCharts>(m_page.get(), "benchmarkCharts"); }
    QLabel *message() const { return child<QLabel>(m_page.get(), "messageLabel"); }

    // The tiny shape: batch 1, prefill 16 and 32, decode 4, one warm-up and one timed run.
    void setUpTinyRun(const QString &prefills = QStringLiteral("16,32"), int repeats = 1)
    {
        QWidget *page = m_page.get();
        clickIndicator(child<QRadioButton>(page, "sourceSyntheticRadio"));
        QComboBox *shape = child<QComboBox>(page, "syntheticShapeCombo");
        shape->setFocus();
        QTest::keyClick(shape, Qt::Key_Home);
        QCOMPARE(shape->currentText(), QStringLiteral("tiny"));
        for (const char *name : {"variantFp32Check", "variantGemmCheck", "variantGemvCheck"})
            QVERIFY(child<QCheckBox>(page, name)->isChecked());
        replaceText(child<QLineEdit>(page, "batchSizesEdit"), QStringLiteral("1"));
        replaceText(child<QLineEdit>(page, "prefillLengthsEdit"), prefills);
        replaceText(child<QSpinBox>(page, "decodeLengthSpin"), QStringLiteral("4"));
        replaceText(child<QSpinBox>(page, "warmupSpin"), QStringLiteral("1"));
        replaceText(child<QSpinBox>(page, "repeatsSpin"), QString::number(repeats));
        QCOMPARE(child<QSpinBox>(page, "repeatsSpin")->value(), repeats);
        QLabel *status = child<QLabel>(page, "configStatusLabel");
        QVERIFY2(!status->property("error").toBool(), qPrintable(status->text()));
    }

    void runAndWait(int timeoutMs)
    {
        click(m_page.get(), "runButton");
        QVERIFY(m_page->isRunning());
        QVERIFY(!child<QWidget>(m_page.get(), "memoryEstimateLabel")->isEnabled()); // set-up locked
        QTRY_VERIFY_WITH_TIMEOUT(!m_page->isRunning(), timeoutMs);
        QVERIFY2(!message()->property("error").toBool(), qPrintable(message()->text()));
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_dir.isValid());
        m_page = std::make_unique<BenchmarkPage>();
        m_page->resize(1200, 800);
        m_page->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_page.get()));
    }

    void cleanupTestCase() { m_page.reset(); }

    void tinyRunFillsTheTableAndTheCharts()
    {
        setUpTinyRun();
        auto *controller = m_page->findChild<BenchmarkController *>();
        QVERIFY(controller);
        QSignalSpy progress(controller, &BenchmarkController::progress);
        runAndWait(120000);
        QVERIFY(progress.count() > 0);
        auto *bar = child<QProgressBar>(m_page.get(), "benchmarkProgress");
        QCOMPARE(bar->value(), bar->maximum());
        QVERIFY2(child<QLabel>(m_page.get(), "benchmarkStatusLabel")->text().contains(QStringLiteral("6 rows")),
                 qPrintable(child<QLabel>(m_page.get(), "benchmarkStatusLabel")->text()));

        const QVector<BenchmarkRun> runs = m_page->runs();
        QCOMPARE(runs.size(), 1);
        const awq::bench::BenchReport &report = runs[0].report;
        QCOMPARE(report.rows.size(), size_t(3 * 1 * 2)); // variant x batch x prefill

        // The table: one row per runner row, holding its numbers.
        QAbstractItemModel *model = table();
        QCOMPARE(model->rowCount(), 6);
        for (int i = 0; i < 6; ++i) {
            const BenchRow &row = report.rows[static_cast<size_t>(i)];
            QCOMPARE(model->index(i, BenchmarkTableModel::VersionColumn).data().toString(),
                     QString::fromLatin1(awq::bench::variantLabel(row.variant)));
            QCOMPARE(model->index(i, BenchmarkTableModel::BatchColumn).data().toString(), QStringLiteral("1"));
            QCOMPARE(cellValue(model, i, BenchmarkTableModel::PrefillLengthColumn), double(row.prefillLength));
            QCOMPARE(cellValue(model, i, BenchmarkTableModel::DecodeLengthColumn), 4.0);
            QVERIFY(row.prefillTokensPerSecond > 0 && row.decodeTokensPerSecond > 0 && row.peakRssBytes > 0);
            QCOMPARE(cellValue(model, i, BenchmarkTableModel::PrefillRateColumn), row.prefillTokensPerSecond);
            QCOMPARE(cellValue(model, i, BenchmarkTableModel::DecodeRateColumn), row.decodeTokensPerSecond);
            QCOMPARE(cellValue(model, i, BenchmarkTableModel::MemoryColumn), double(row.peakRssBytes));
            const double speedup = cellValue(model, i, BenchmarkTableModel::SpeedupColumn);
            const BenchRow &fp32 = rowOf(report, Variant::Fp32, row.prefillLength);
            QCOMPARE(speedup, row.decodeTokensPerSecond / fp32.decodeTokensPerSecond);
            QVERIFY(!model->index(i, BenchmarkTableModel::PerplexityColumn).data(BenchmarkTableModel::ValueRole).isValid());
        }
        auto *view = child<QTableView>(m_page.get(), "resultsTable");
        QVERIFY(view->isColumnHidden(BenchmarkTableModel::PerplexityColumn));
        QVERIFY(view->isColumnHidden(BenchmarkTableModel::RunColumn));

        // The throughput charts: one bar set per build, one bar per (batch, prefill).
        QCOMPARE(charts()->categories(Kind::PrefillRate).size(), 2);
        for (const Kind kind : {Kind::PrefillRate, Kind::DecodeRate}) {
            const QList<QBarSet *> sets = charts()->barSets(kind);
            QCOMPARE(sets.size(), 3);
            const Variant order[] = {Variant::Fp32, Variant::Gemm, Variant::Gemv};
            for (int s = 0; s < 3; ++s) {
                QCOMPARE(sets[s]->label(), QString::fromLatin1(awq::bench::variantLabel(order[s])));
                QCOMPARE(sets[s]->count(), 2);
                for (int c = 0; c < 2; ++c) {
                    const BenchRow &row = rowOf(report, order[s], c == 0 ? 16 : 32);
                    const double expected =
                        kind == Kind::PrefillRate ? row.prefillTokensPerSecond : row.decodeTokensPerSecond;
                    QCOMPARE(sets[s]->at(c), expected);
                    QVERIFY(sets[s]->at(c) > 0);
                }
            }
        }
        // Speed-up: decode tokens/s of each int4 build over FP32's.
        const QList<QBarSet *> speedups = charts()->barSets(Kind::Speedup);
        QCOMPARE(speedups.size(), 2);
        QCOMPARE(speedups[0]->label(), QStringLiteral("GEMM"));
        QCOMPARE(speedups[0]->at(1), rowOf(report, Variant::Gemm, 32).decodeTokensPerSecond
                                         / rowOf(report, Variant::Fp32, 32).decodeTokensPerSecond);
        QCOMPARE(speedups[1]->label(), QStringLiteral("GEMV"));
        QCOMPARE(speedups[1]->at(0), rowOf(report, Variant::Gemv, 16).decodeTokensPerSecond
                                         / rowOf(report, Variant::Fp32, 16).decodeTokensPerSecond);
        QCOMPARE(charts()->categories(Kind::Speedup), (QStringList{"16", "32"}));
        // Memory: peak and weights per build; the int4 builds hold fewer weight bytes.
        QCOMPARE(charts()->categories(Kind::Memory), (QStringList{"FP32", "GEMM", "GEMV"}));
        const QList<QBarSet *> memory = charts()->barSets(Kind::Memory);
        QCOMPARE(memory.size(), 2);
        for (int c = 0; c < 3; ++c)
            QVERIFY(memory[0]->at(c) > 0 && memory[1]->at(c) > 0);
        QVERIFY(memory[1]->at(1) < memory[1]->at(0));

        // Perplexity means nothing on random weights: not offered for a synthetic shape.
        auto *perplexity = child<QCheckBox>(m_page.get(), "perplexityCheck");
        QVERIFY(!perplexity->isEnabled());
        QVERIFY(perplexity->toolTip().contains(QStringLiteral("random weights")));

        const QString shots = qEnvironmentVariable("AWQ_SCREENSHOT_DIR");
        if (!shots.isEmpty()) {
            QCoreApplication::processEvents();
            QVERIFY(m_page->grab().save(shots + QStringLiteral("/benchmark-dashboard.png")));
            // The same in a dark palette: the charts follow it.
            const QPalette light = m_page->palette();
            QPalette dark;
            dark.setColor(QPalette::Window, QColor(0x2b, 0x2b, 0x2b));
            dark.setColor(QPalette::WindowText, Qt::white);
            dark.setColor(QPalette::Base, QColor(0x1e, 0x1e, 0x1e));
            dark.setColor(QPalette::AlternateBase, QColor(0x33, 0x33, 0x33));
            dark.setColor(QPalette::Text, Qt::white);
            dark.setColor(QPalette::Button, QColor(0x3a, 0x3a, 0x3a));
            dark.setColor(QPalette::ButtonText, Qt::white);
            m_page->setPalette(dark);
            QCoreApplication::processEvents();
            QVERIFY(m_page->grab().save(shots + QStringLiteral("/benchmark-dashboard-dark.png")));
            m_page->setPalette(light);
        }
    }

    void savedJsonLoadsBackWithIdenticalRows()
    {
        QCOMPARE(table()->rowCount(), 6);
        const QString json = path(QStringLiteral("tiny-results.json"));
        answerNextFileDialog(json);
        click(m_page.get(), "saveJsonButton");
        QVERIFY2(QFile::exists(json), qPrintable(message()->text()));
        QVERIFY(message()->text().contains(QStringLiteral("tiny-results.json")));

        const QString csv = path(QStringLiteral("tiny-results")); // the suffix is added
        answerNextFileDialog(csv);
        click(m_page.get(), "saveCsvButton");
        QFile csvFile(csv + QStringLiteral(".csv"));
        QVERIFY2(csvFile.open(QIODevice::ReadOnly), qPrintable(message()->text()));
        QCOMPARE(csvFile.readAll().count('\n'), 7); // header + 6 rows

        answerNextFileDialog(json);
        click(m_page.get(), "loadJsonButton");
        QVERIFY2(!message()->property("error").toBool(), qPrintable(message()->text()));
        QCOMPARE(m_page->runs().size(), 2);
        QCOMPARE(m_page->runs()[1].label, QStringLiteral("tiny-results.json"));
        QAbstractItemModel *model = table();
        QCOMPARE(model->rowCount(), 12);
        for (int i = 0; i < 6; ++i) {
            QCOMPARE(rowTexts(model, i + 6), rowTexts(model, i));
            for (int c = BenchmarkTableModel::PrefillRateColumn; c <= BenchmarkTableModel::SpeedupColumn; ++c)
                QCOMPARE(cellValue(model, i + 6, c), cellValue(model, i, c));
            QCOMPARE(model->index(i + 6, BenchmarkTableModel::RunColumn).data().toString(),
                     QStringLiteral("tiny-results.json"));
        }
        QVERIFY(!child<QTableView>(m_page.get(), "resultsTable")->isColumnHidden(BenchmarkTableModel::RunColumn));
        // The loaded run is drawn next to this one, labelled with its file.
        const QList<QBarSet *> decode = charts()->barSets(Kind::DecodeRate);
        QCOMPARE(decode.size(), 6);
        QCOMPARE(decode[3]->label(), QStringLiteral("FP32 · tiny-results.json"));
        if (!qEnvironmentVariableIsEmpty("AWQ_SCREENSHOT_DIR")) {
            QCoreApplication::processEvents();
            QVERIFY(m_page->grab().save(qEnvironmentVariable("AWQ_SCREENSHOT_DIR")
                                        + QStringLiteral("/benchmark-dashboard-compare.png")));
        }
        for (int s = 0; s < 3; ++s)
            for (int c = 0; c < 2; ++c)
                QCOMPARE(decode[s + 3]->at(c), decode[s]->at(c));

        click(m_page.get(), "clearLoadedButton");
        QCOMPARE(table()->rowCount(), 6);
        QCOMPARE(charts()->barSets(Kind::DecodeRate).size(), 3);
    }

    void brokenJsonIsNamedInTheError()
    {
        const QString broken = path(QStringLiteral("broken-results.json"));
        QFile file(broken);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{\"schema\": \"awq-studio/bench/1\", \"rows\": [");
        file.close();
        answerNextFileDialog(broken);
        click(m_page.get(), "loadJsonButton");
        QVERIFY(message()->property("error").toBool());
        QVERIFY2(message()->text().contains(QStringLiteral("broken-results.json")), qPrintable(message()->text()));

        // Valid JSON with a bad field: the file and the field are named.
        QFile saved(path(QStringLiteral("tiny-results.json")));
        QVERIFY(saved.open(QIODevice::ReadOnly));
        QByteArray text = saved.readAll();
        text.replace("\"batch_size\": 1", "\"batch_size\": \"one\"");
        const QString badField = path(QStringLiteral("bad-field.json"));
        QFile out(badField);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(text);
        out.close();
        answerNextFileDialog(badField);
        click(m_page.get(), "loadJsonButton");
        QVERIFY(message()->property("error").toBool());
        QVERIFY2(message()->text().contains(QStringLiteral("bad-field.json"))
                     && message()->text().contains(QStringLiteral("rows[0].batch_size")),
                 qPrintable(message()->text()));
        QCOMPARE(table()->rowCount(), 6); // nothing was added
        QCOMPARE(m_page->runs().size(), 1);
    }

    // Issue 23, bug 5: "Charts PNG…" asks for a file and writes one picture of the four
    // charts with their legend, at a readable size whatever the window's size.
    void chartsExportAsPng()
    {
        const QString png = path(QStringLiteral("charts"));
        answerNextFileDialog(png);
        click(m_page.get(), "exportChartsButton");
        QVERIFY2(!message()->property("error").toBool(), qPrintable(message()->text()));
        const QImage image(png + QStringLiteral(".png"));
        QVERIFY2(!image.isNull(), qPrintable(message()->text()));
        QVERIFY2(image.width() >= 1200 && image.height() >= 800,
                 qPrintable(QStringLiteral("%1x%2").arg(image.width()).arg(image.height())));
        // One chart from its context menu: with the legend too, at 900 x 600.
        QString error;
        const QString one = path(QStringLiteral("decode.png"));
        QVERIFY2(charts()->exportPng(Kind::DecodeRate, one, &error), qPrintable(error));
        QCOMPARE(QImage(one).size(), QSize(900, 600));
        // Both show the legend in a line above the charts (the charts' titles come below it).
        const int band = child<QLabel>(m_page.get(), "chartLegendLabel")->fontMetrics().height() + 2;
        QVERIFY2(showsLegend(image, band, charts()->barSets(Kind::DecodeRate)), "no legend in the charts' PNG");
        QVERIFY2(showsLegend(QImage(one), band, charts()->barSets(Kind::DecodeRate)), "no legend in the chart's PNG");
    }

    // Issue 23, bug 5: category labels fit under their bars (no "b1 · …"), the builds'
    // legend is shown, and at 1024 x 640 the charts scroll instead of being cut.
    void chartsAreReadableInASmallWindow()
    {
        QVERIFY(!m_page->runs().isEmpty());
        const QStringList labels = charts()->categories(Kind::PrefillRate);
        QVERIFY(!labels.isEmpty());
        for (const QString &label : labels)
            QVERIFY2(label.size() <= 6, qPrintable(label));
        QVERIFY(child<QLabel>(m_page.get(), "chartLegendLabel")->isVisible());
        QVERIFY(child<QLabel>(m_page.get(), "chartLegendLabel")->text().contains(QStringLiteral("GEMM")));
        const QSize before = m_page->size();
        for (const QSize size : {QSize(1024, 640), QSize(1400, 900)}) {
            m_page->resize(size);
            QTest::qWait(50);
            auto *scroll = m_page->findChild<QScrollArea *>(QStringLiteral("benchmarkChartsScroll"));
            QVERIFY2(scroll, "the charts are not in a scroll area");
            const QSize need = charts()->minimumSizeHint();
            const QSize have = scroll->viewport()->size();
            const bool fits = have.width() >= need.width() && have.height() >= need.height();
            QVERIFY2(fits || scroll->verticalScrollBar()->isVisible() || scroll->horizontalScrollBar()->isVisible(),
                     qPrintable(QStringLiteral("%1x%2 shown in %3x%4 without a scroll bar")
                                    .arg(need.width()).arg(need.height()).arg(have.width()).arg(have.height())));
            for (const Kind kind : BenchmarkCharts::kinds())
                QVERIFY(charts()->view(kind)->height() >= 200);
            if (!qEnvironmentVariableIsEmpty("AWQ_SCREENSHOT_DIR"))
                QVERIFY(m_page->grab().save(qEnvironmentVariable("AWQ_SCREENSHOT_DIR")
                                            + QStringLiteral("/benchmark-%1x%2.png").arg(size.width()).arg(size.height())));
        }
        m_page->resize(before);
    }

    void cancelMidRunLeavesThePageUsable()
    {
        const awq::bench::BenchReport before = m_page->runs()[0].report;
        setUpTinyRun(QStringLiteral("256"), 1000); // minutes of work if not cancelled
        click(m_page.get(), "runButton");
        QLabel *status = child<QLabel>(m_page.get(), "benchmarkStatusLabel");
        QTRY_VERIFY_WITH_TIMEOUT(status->text().contains(QStringLiteral("prefill 256, decode 4: run")), 60000);
        QVERIFY(m_page->isRunning());
        click(m_page.get(), "cancelButton");
        QTRY_VERIFY_WITH_TIMEOUT(!m_page->isRunning(), 30000);
        QVERIFY2(status->text().contains(QStringLiteral("Cancelled")), qPrintable(status->text()));
        QVERIFY(!message()->property("error").toBool());
        // The earlier results stay; the set-up is editable again and runs.
        QCOMPARE(m_page->runs().size(), 1);
        QCOMPARE(m_page->runs()[0].report.date, before.date);
        QCOMPARE(table()->rowCount(), 6);
        setUpTinyRun(QStringLiteral("8"), 1);
        runAndWait(120000);
        QCOMPARE(table()->rowCount(), 3);
        QCOMPARE(charts()->barSets(Kind::DecodeRate).size(), 3);
    }

    void planThatCannotFitIsRefused()
    {
        QWidget *page = m_page.get();
        clickIndicator(child<QRadioButton>(page, "sourceSyntheticRadio"));
        QComboBox *shape = child<QComboBox>(page, "syntheticShapeCombo");
        shape->setFocus();
        QTest::keyClick(shape, Qt::Key_End);
        replaceText(child<QLineEdit>(page, "batchSizesEdit"), QStringLiteral("4096"));
        replaceText(child<QLineEdit>(page, "prefillLengthsEdit"), QStringLiteral("1048576"));
        QLabel *status = child<QLabel>(page, "configStatusLabel");
        QVERIFY(status->property("error").toBool());
        QVERIFY2(status->text().contains(QStringLiteral("needs about"))
                     && status->text().contains(QStringLiteral("available")),
                 qPrintable(status->text()));
        QVERIFY(child<QLabel>(page, "memoryEstimateLabel")->text().contains(QStringLiteral("FP32")));
        QVERIFY(!child<QPushButton>(page, "runButton")->isEnabled());

        replaceText(child<QLineEdit>(page, "batchSizesEdit"), QStringLiteral("1,,8"));
        QVERIFY(status->property("error").toBool());
        QVERIFY2(status->text().contains(QStringLiteral("Batch sizes")), qPrintable(status->text()));
        QVERIFY(!child<QPushButton>(page, "runButton")->isEnabled());
        replaceText(child<QLineEdit>(page, "batchSizesEdit"), QStringLiteral("1"));
        replaceText(child<QLineEdit>(page, "prefillLengthsEdit"), QStringLiteral("16"));
        shape->setFocus();
        QTest::keyClick(shape, Qt::Key_Home); // "tiny"
        QVERIFY2(!status->property("error").toBool(), qPrintable(status->text()));
        QVERIFY(child<QPushButton>(page, "runButton")->isEnabled());
    }

    void perplexityOfEachBuildOfTheDemoModel()
    {
        const QString demo = ResourcePaths::demoModelFolder();
        if (demo.isEmpty())
            QSKIP("the bundled demo model (resources/models/demo-llama) is not there");
        QWidget *page = m_page.get();
        clickIndicator(child<QRadioButton>(page, "sourceFolderRadio"));
        QVERIFY(child<QRadioButton>(page, "sourceFolderRadio")->isChecked());
        replaceText(child<QLineEdit>(page, "modelFolderEdit"), demo);
        replaceText(child<QLineEdit>(page, "prefillLengthsEdit"), QStringLiteral("16"));
        replaceText(child<QSpinBox>(page, "decodeLengthSpin"), QStringLiteral("4"));
        replaceText(child<QSpinBox>(page, "repeatsSpin"), QStringLiteral("1"));
        auto *perplexity = child<QCheckBox>(page, "perplexityCheck");
        QVERIFY(perplexity->isEnabled());
        QVERIFY(!perplexity->isChecked()); // off by default
        clickIndicator(perplexity);
        QVERIFY(perplexity->isChecked());
        runAndWait(300000);

        QVERIFY(!child<QTableView>(page, "resultsTable")->isColumnHidden(BenchmarkTableModel::PerplexityColumn));
        QAbstractItemModel *model = table();
        QCOMPARE(model->rowCount(), 3);
        double ppl[3] = {};
        for (int i = 0; i < 3; ++i) {
            ppl[i] = cellValue(model, i, BenchmarkTableModel::PerplexityColumn);
            QVERIFY2(std::isfinite(ppl[i]) && ppl[i] > 1, qPrintable(QString::number(ppl[i])));
        }
        const QVector<BenchmarkRun> runs = m_page->runs();
        const auto &measured = runs[0].report.perplexity;
        QCOMPARE(measured.size(), size_t(3));
        QCOMPARE(measured[0].seqLen, qint64(128));
        QCOMPARE(measured[0].windows, qint64(16));
        QCOMPARE(QString::fromStdString(measured[0].text), QStringLiteral("brown-heldout.txt"));
        // A trained model (held-out perplexity 116 on the whole text), far below a unigram's ~900.
        QVERIFY2(ppl[0] < 400, qPrintable(QString::number(ppl[0])));
        // GEMM and GEMV hold the same round-to-nearest codes; 4 bits cost little.
        QVERIFY2(std::abs(ppl[1] - ppl[2]) < 0.01 * ppl[1], qPrintable(QStringLiteral("%1 vs %2").arg(ppl[1]).arg(ppl[2])));
        QVERIFY2(ppl[1] > 0.95 * ppl[0] && ppl[1] < 1.1 * ppl[0],
                 qPrintable(QStringLiteral("FP32 %1, int4 %2").arg(ppl[0]).arg(ppl[1])));
        if (!qEnvironmentVariableIsEmpty("AWQ_SCREENSHOT_DIR")) {
            QCoreApplication::processEvents();
            QVERIFY(m_page->grab().save(qEnvironmentVariable("AWQ_SCREENSHOT_DIR")
                                        + QStringLiteral("/benchmark-dashboard-demo.png")));
        }
    }

    // Issue 23, bug 13: prefill lengths beyond the model's context are refused with the
    // lengths that fit; a model sent from another page gets a list that fits, with a note.
    void prefillLongerThanTheContextIsRefused()
    {
        const QString demo = ResourcePaths::demoModelFolder();
        if (demo.isEmpty())
            QSKIP("the bundled demo model (resources/models/demo-llama) is not there");
        QWidget *page = m_page.get();
        clickIndicator(child<QRadioButton>(page, "sourceFolderRadio"));
        replaceText(child<QLineEdit>(page, "modelFolderEdit"), demo);
        replaceText(child<QSpinBox>(page, "decodeLengthSpin"), QStringLiteral("32"));
        replaceText(child<QLineEdit>(page, "prefillLengthsEdit"), QStringLiteral("32,512"));
        QLabel *status = child<QLabel>(page, "configStatusLabel");
        QVERIFY2(status->property("error").toBool(), qPrintable(status->text()));
        QVERIFY2(status->text().contains(QStringLiteral("context is 256")) && status->text().contains(QStringLiteral("224")),
                 qPrintable(status->text()));
        QVERIFY(!child<QPushButton>(page, "runButton")->isEnabled());

        m_page->setModelFolder(demo); // as "Benchmark" from the Library does
        QCOMPARE(child<QLineEdit>(page, "prefillLengthsEdit")->text(), QStringLiteral("32"));
        QVERIFY2(!status->property("error").toBool() && status->text().contains(QStringLiteral("512")),
                 qPrintable(status->text()));
        QVERIFY(child<QPushButton>(page, "runButton")->isEnabled());
    }
};

QTEST_MAIN(TestBenchmarkDashboard)
#include "tst_benchmark_dashboard.moc"
