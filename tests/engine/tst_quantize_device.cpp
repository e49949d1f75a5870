// The quantizer is device-generic (QuantOptions::device, awq quantize --device): run on the CPU
// device explicitly it writes exactly what the default run writes; a GPU this process cannot
// use is refused before anything is written; and where a CUDA GPU is visible, AWQ on it gives
// the CPU's result up to floating-point summation order (codes, zero points and scales).

#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <nlohmann/json.hpp>
#include <QtTest>

#include <fstream>
#include <iterator>

#include "awq/io/json_file.h"
#include "awq/io/safetensors.h"
#include "awq/quant/quantize_job.h"
#include "fixture_model.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace awq;
using awq::test::catchError;
using awq::test::contains;

class TestQuantizeDevice : public QObject
{
    Q_OBJECT

    fs::path m_root, m_model, m_calib;

    QuantOptions options(const std::string &tag, const std::string &device) const
    {
        QuantOptions o;
        o.modelFolder = m_model;
        o.outputFolder = m_root / tag;
        o.quantizer.groupSize = 32;
        o.calibration.source = {CalibrationSource::Kind::TextFile, m_calib, "text"};
        o.calibration.nSamples = 64;
        o.calibration.seqLen = 128;
        o.threads = 1;
        o.device = device;
        return o;
    }

    static std::string bytes(const fs::path &file)
    {
        std::ifstream in(file, std::ios::binary);
        return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_root = test::makeTempDir("quantize_device");
        test::FixtureSpec spec;
        spec.numKvHeads = 2;
        spec.intermediateSize = 192;
        m_model = test::makeFixtureModel(m_root / "fp", spec);
        m_calib = m_root / "calib.txt";
        test::writeFile(m_calib, test::fixtureCorpus());
    }

    void cpuDeviceWritesWhatTheDefaultWrites()
    {
        QuantOptions byDefault = options("default", "cpu");
        byDefault.device = QuantOptions{}.device;
        QCOMPARE(byDefault.device, std::string("cpu"));
        quantizeModel(byDefault);
        quantizeModel(options("cpu", "cpu"));
        QVERIFY(bytes(m_root / "default" / "model.safetensors") == bytes(m_root / "cpu" / "model.safetensors"));
        const auto provenance = readJsonFile(m_root / "cpu" / "awq_studio_quant.json");
        QCOMPARE(provenance.at("device").get<std::string>(), std::string("cpu"));
    }

    void unusableDeviceIsRefusedBeforeWriting()
    {
        for (const char *device : {"cuda:9", "tpu:0"}) {
            const test::Thrown t = catchError([&] { quantizeModel(options(std::string("bad-") + device, device)); });
            QCOMPARE(t.code, ErrorCode::Device);
            QVERIFY2(contains(t.message, device), t.message.c_str());
            QVERIFY(!fs::exists(m_root / (std::string("bad-") + device)));
        }
    }

    void gpuMatchesTheCpu()
    {
        if (!at::hasCUDA())
            QSKIP("no CUDA in this LibTorch or no GPU visible: the GPU run is compared on a GPU machine");
        quantizeModel(options("cpu-ref", "cpu"));
        quantizeModel(options("gpu", "cuda:0"));
        const auto cpu = SafetensorsFile::open(m_root / "cpu-ref" / "model.safetensors");
        const auto gpu = SafetensorsFile::open(m_root / "gpu" / "model.safetensors");
        QCOMPARE(gpu->names().size(), cpu->names().size());
        int64_t words = 0, wordsDiffering = 0;
        double worstScale = 0;
        for (const std::string &name : cpu->names()) {
            const at::Tensor a = cpu->view(name), b = gpu->view(name);
            QCOMPARE(b.sizes(), a.sizes());
            if (contains(name, ".qweight") || contains(name, ".qzeros")) {
                words += a.numel();
                wordsDiffering += a.ne(b).sum().item<int64_t>();
            } else {
                const double scale = std::max(a.to(at::kDouble).abs().max().item<double>(), 1e-30);
                worstScale = std::max(worstScale, (a.to(at::kDouble) - b.to(at::kDouble)).abs().max().item<double>() / scale);
            }
        }
        qInfo("GPU vs CPU: %lld of %lld packed words differ; worst relative difference of other tensors %.3g",
              static_cast<long long>(wordsDiffering), static_cast<long long>(words), worstScale);
        // A scale or clip choice that flips on a near-tie changes a group's codes: rare, not none.
        QVERIFY(wordsDiffering * 100 <= words);
        QVERIFY(worstScale < 1e-2);
    }
};

QTEST_GUILESS_MAIN(TestQuantizeDevice)
#include "tst_quantize_device.moc"
