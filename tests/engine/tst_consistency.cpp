// quantization_config against the tensors: a folder whose config disagrees with what it
// stores is listed by `awq info` (exit 1, one line per problem) and refused at load with
// an error naming config.json, the tensor and both values. Before these checks such
// folders were reported as AWQ and ran (in full precision, or not at all).

#include <fstream>

#include <QProcess>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/model/model_info.h"
#include "awq/quant/quantize_job.h"
#include "awq/runtime/loaded_model.h"
#include "fixture_model.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace awq;
using awq::test::contains;

namespace {

nlohmann::json readJson(const fs::path &p)
{
    std::ifstream in(p);
    return nlohmann::json::parse(in);
}

void writeJson(const fs::path &p, const nlohmann::json &j)
{
    std::ofstream(p) << j.dump(2);
}

// A copy of `from` whose config.json is edited by `edit`.
fs::path tampered(const fs::path &from, const fs::path &to, const std::function<void(nlohmann::json &)> &edit)
{
    fs::remove_all(to);
    fs::copy(from, to, fs::copy_options::recursive);
    nlohmann::json config = readJson(to / "config.json");
    edit(config);
    writeJson(to / "config.json", config);
    return to;
}

struct InfoRun {
    int exitCode = -1;
    QStringList problems; // the "awq info: problem: ..." lines
};

// `awq info FOLDER` as a user runs it (the tool sits next to this test executable).
InfoRun runInfo(const fs::path &folder)
{
    QProcess process;
    process.start(QCoreApplication::applicationDirPath() + "/awq", {"info", QString::fromStdString(folder.string())});
    InfoRun run;
    if (!process.waitForFinished(60000))
        return run;
    run.exitCode = process.exitCode();
    for (const QString &line : QString::fromUtf8(process.readAllStandardError()).split('\n'))
        if (line.startsWith("awq info: problem: "))
            run.problems << line;
    return run;
}

} // namespace

class TestConsistency : public QObject
{
    Q_OBJECT

    fs::path m_root, m_fp, m_gemm;

private Q_SLOTS:
    void initTestCase()
    {
        m_root = test::makeTempDir("consistency");
        awq::test::FixtureSpec spec;
        spec.hiddenSize = 64;
        spec.intermediateSize = 128;
        m_fp = test::makeFixtureModel(m_root / "fp", spec);
        QuantOptions o;
        o.modelFolder = m_fp;
        o.outputFolder = m_root / "gemm";
        o.method = QuantMethod::Rtn;
        o.quantizer.groupSize = 32;
        m_gemm = quantizeModel(o).outputFolder;
    }

    void agreeingFoldersHaveNoProblem()
    {
        QVERIFY(inspectModel(m_fp).problems.empty());
        QVERIFY(inspectModel(m_gemm).problems.empty());
        const InfoRun run = runInfo(m_gemm);
        QCOMPARE(run.exitCode, 0);
        QVERIFY(run.problems.isEmpty());
    }

    void awqDeclaredOverFullPrecisionTensors()
    {
        const fs::path folder = tampered(m_fp, m_root / "claims-awq", [](nlohmann::json &c) {
            c["quantization_config"] = {{"quant_method", "awq"}, {"bits", 4}, {"group_size", 32}, {"zero_point", true},
                                        {"version", "gemm"}};
        });
        const ModelInfo info = inspectModel(folder);
        // Two layers of seven full-precision linears, none excluded: one line each.
        QCOMPARE(info.problems.size(), size_t(14));
        QVERIFY2(contains(info.problems.front(), "config.json")
                     && contains(info.problems.front(), "model.layers.0.self_attn.q_proj.weight")
                     && contains(info.problems.front(), "full precision"),
                 info.problems.front().c_str());
        const InfoRun run = runInfo(folder);
        QCOMPARE(run.exitCode, 1);
        QCOMPARE(run.problems.size(), qsizetype(14));
        const auto load = test::catchError([&] { loadModel(folder); });
        QVERIFY(load.thrown && load.code == ErrorCode::Format);
        QVERIFY2(contains(load.message, "config.json") && contains(load.message, "q_proj")
                     && contains(load.message, "13 more"),
                 load.message.c_str());

        // Naming the linears in modules_to_not_convert makes the same folder consistent.
        const fs::path excluded = tampered(folder, m_root / "claims-awq-excluded", [](nlohmann::json &c) {
            c["quantization_config"]["modules_to_not_convert"] = {"self_attn", "mlp"};
        });
        QVERIFY(inspectModel(excluded).problems.empty());
    }

    void groupSizeThatDoesNotDivideInFeatures()
    {
        const fs::path folder = tampered(m_gemm, m_root / "group-48",
                                         [](nlohmann::json &c) { c["quantization_config"]["group_size"] = 48; });
        const ModelInfo info = inspectModel(folder);
        QVERIFY(!info.problems.empty());
        QVERIFY2(contains(info.problems.front(), "group_size 48") && contains(info.problems.front(), "in_features 64"),
                 info.problems.front().c_str());
        QCOMPARE(runInfo(folder).exitCode, 1);
        QVERIFY(test::catchError([&] { loadModel(folder); }).thrown);
    }

    void packedShapesOfAnotherVersion()
    {
        // A GEMM checkpoint declared as GEMV: every packed tensor has the other layout.
        const fs::path folder = tampered(m_gemm, m_root / "says-gemv",
                                         [](nlohmann::json &c) { c["quantization_config"]["version"] = "gemv"; });
        const ModelInfo info = inspectModel(folder);
        QVERIFY(!info.problems.empty());
        const std::string &first = info.problems.front();
        // q_proj is square (64 x 64): its qweight fits both layouts, its qzeros do not.
        QVERIFY2(contains(first, "model.layers.0.self_attn.q_proj.qzeros") && contains(first, "has shape [2, 8]")
                     && contains(first, "implies [64, 4]") && contains(first, "version gemv"),
                 first.c_str());
        const InfoRun run = runInfo(folder);
        QCOMPARE(run.exitCode, 1);
        QCOMPARE(run.problems.size(), qsizetype(info.problems.size()));
        const auto load = test::catchError([&] { loadModel(folder); });
        QVERIFY2(load.thrown && contains(load.message, "config.json") && contains(load.message, "q_proj.qzeros"),
                 load.message.c_str());
    }

    void bitsTheFormatCannotHold()
    {
        const fs::path folder =
            tampered(m_gemm, m_root / "bits-8", [](nlohmann::json &c) { c["quantization_config"]["bits"] = 8; });
        const ModelInfo info = inspectModel(folder);
        QCOMPARE(info.problems.size(), size_t(1));
        QVERIFY2(contains(info.problems.front(), "bits 8") && contains(info.problems.front(), "4-bit"),
                 info.problems.front().c_str());
        QCOMPARE(runInfo(folder).exitCode, 1);
    }

    void packedTensorsWithoutQuantizationConfig()
    {
        const fs::path folder =
            tampered(m_gemm, m_root / "no-config", [](nlohmann::json &c) { c.erase("quantization_config"); });
        const ModelInfo info = inspectModel(folder);
        QVERIFY(!info.problems.empty());
        QVERIFY2(contains(info.problems.front(), "no quantization_config"), info.problems.front().c_str());
        QCOMPARE(runInfo(folder).exitCode, 1);
    }
};

QTEST_GUILESS_MAIN(TestConsistency)
#include "tst_consistency.moc"
