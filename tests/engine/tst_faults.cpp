// Faults while quantizing, saving and chatting (issue 11): a disk that fills up, a folder
// that turns read-only, cancels at random points, a model folder that changes or
// disappears mid-run, NaN/inf weights and too little memory. Each must end with a clear
// error (or, where the data is still sound, a complete result), never a crash, and leave
// no partial output and any existing output intact. docs/reliability.md lists each case.

#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cmath>
#include <fstream>
#include <functional>
#include <random>

#include <ATen/ATen.h>
#include <QtTest>

#include "awq/chat/chat_model.h"
#include "awq/chat/conversation.h"
#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "awq/io/safetensors.h"
#include "awq/quant/quantize_job.h"
#include "awq/runtime/loaded_model.h"
#include "fixture_model.h"
#include "test_support.h"

namespace fs = std::filesystem;
using namespace awq;
using awq::test::catchError;
using awq::test::contains;

namespace {

std::string readAll(const fs::path &p)
{
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Hidden leftovers of an interrupted write next to `path`: ".x.partial-PID", ".x.tmp-PID".
std::vector<std::string> leftovers(const fs::path &folder)
{
    std::vector<std::string> found;
    for (const auto &e : fs::recursive_directory_iterator(folder)) {
        const std::string name = e.path().filename().string();
        if (name.find(".partial-") != std::string::npos || name.find(".tmp-") != std::string::npos)
            found.push_back(e.path().string());
    }
    return found;
}

// Rewrites `file` with `edit` applied to tensor `name` (all others as stored).
void editTensor(const fs::path &file, const std::string &name, const std::function<void(at::Tensor &)> &edit)
{
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    {
        auto st = SafetensorsFile::open(file);
        for (const auto &n : st->names()) {
            at::Tensor t = st->load(n, toScalarType(st->info(n).dtype));
            if (n == name)
                edit(t);
            tensors.emplace_back(n, t);
        }
    }
    writeSafetensorsFile(file, tensors);
}

// A small tmpfs mounted for one test (needs CAP_SYS_ADMIN: root in CI); unmounted after.
class SmallTmpfs
{
public:
    SmallTmpfs(const fs::path &at, uint64_t bytes) : m_path(at)
    {
        fs::create_directories(m_path);
        const std::string options = "size=" + std::to_string(bytes) + ",mode=0777";
        m_mounted = ::mount("tmpfs", m_path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, options.c_str()) == 0;
        m_error = m_mounted ? 0 : errno;
    }
    ~SmallTmpfs()
    {
        if (m_mounted)
            ::umount2(m_path.c_str(), MNT_DETACH);
    }
    bool mounted() const { return m_mounted; }
    std::string error() const { return std::strerror(m_error); }
    uint64_t freeBytes() const
    {
        struct statvfs s {};
        ::statvfs(m_path.c_str(), &s);
        return uint64_t(s.f_bavail) * s.f_frsize;
    }

private:
    fs::path m_path;
    bool m_mounted = false;
    int m_error = 0;
};

// Files this process writes may grow to `bytes` at most (RLIMIT_FSIZE): a write past it
// fails with EFBIG, as a full disk fails with ENOSPC. SIGXFSZ is ignored meanwhile.
class FileSizeLimit
{
public:
    explicit FileSizeLimit(uint64_t bytes)
    {
        ::getrlimit(RLIMIT_FSIZE, &m_old);
        m_oldHandler = std::signal(SIGXFSZ, SIG_IGN);
        rlimit limited = m_old;
        limited.rlim_cur = bytes;
        ::setrlimit(RLIMIT_FSIZE, &limited);
    }
    ~FileSizeLimit()
    {
        ::setrlimit(RLIMIT_FSIZE, &m_old);
        std::signal(SIGXFSZ, m_oldHandler);
    }

private:
    rlimit m_old {};
    void (*m_oldHandler)(int) = nullptr;
};

// Runs `fn` with an unprivileged user's file permissions. As root (CI) permission bits do
// not apply, so the calling thread's filesystem ids become nobody's (setfsuid is
// per-thread, and the writers run on the calling thread); otherwise `fn` runs as is.
// Returns false, running nothing, where the ids cannot be changed (no CAP_SETUID).
bool asUnprivileged(const std::function<void()> &fn)
{
    if (::geteuid() != 0) {
        fn();
        return true;
    }
    ::setfsgid(65534);
    ::setfsuid(65534);
    if (::setfsuid(static_cast<uid_t>(-1)) != 65534) { // -1 changes nothing and returns the current id
        ::setfsgid(0);
        return false;
    }
    struct Restore {
        ~Restore()
        {
            ::setfsuid(0);
            ::setfsgid(0);
        }
    } restore;
    fn();
    return true;
}

} // namespace

class TestFaults : public QObject
{
    Q_OBJECT

    fs::path m_root, m_model, m_calib;
    // A copy of the model and calibration text where the unprivileged user of
    // asUnprivileged() can read them whatever the checkout's location (the system's temp
    // folder; the build tree may sit under a folder only root can enter).
    fs::path m_openRoot;

    QuantOptions unprivilegedOptions(const fs::path &out) const
    {
        QuantOptions o = options(m_openRoot / "model", out);
        o.calibration.source.path = m_openRoot / "calib.txt";
        return o;
    }

    QuantOptions options(const fs::path &model, const fs::path &out) const
    {
        QuantOptions o;
        o.modelFolder = model;
        o.outputFolder = out;
        o.overwrite = true;
        o.quantizer.groupSize = 32;
        o.calibration.source = {CalibrationSource::Kind::TextFile, m_calib, "text"};
        o.calibration.nSamples = 32;
        o.calibration.seqLen = 128;
        o.threads = 1;
        return o;
    }
    // An earlier result at `out` that a failed run must leave exactly as it was.
    static void plantExistingOutput(const fs::path &out)
    {
        fs::create_directories(out);
        std::ofstream(out / "config.json") << "{\"earlier\": true}\n";
    }
    static void verifyExistingOutputIntact(const fs::path &out)
    {
        QCOMPARE(readAll(out / "config.json"), std::string("{\"earlier\": true}\n"));
        QCOMPARE(int(std::distance(fs::directory_iterator(out), fs::directory_iterator())), 1);
    }
    fs::path copyOfModel(const std::string &name) const
    {
        const fs::path copy = m_root / name;
        fs::remove_all(copy);
        fs::copy(m_model, copy, fs::copy_options::recursive);
        return copy;
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_root = test::makeTempDir("faults");
        test::FixtureSpec spec;
        spec.torchDtype = "float16";
        m_model = test::makeFixtureModel(m_root / "model", spec);
        m_calib = m_root / "calib.txt";
        std::ofstream(m_calib) << test::fixtureCorpus();

        m_openRoot = fs::temp_directory_path() / ("awq-faults-" + std::to_string(::getpid()));
        fs::remove_all(m_openRoot);
        fs::create_directories(m_openRoot);
        fs::copy(m_model, m_openRoot / "model", fs::copy_options::recursive);
        fs::copy_file(m_calib, m_openRoot / "calib.txt");
        for (const auto &e : fs::recursive_directory_iterator(m_openRoot))
            fs::permissions(e.path(), e.is_directory() ? fs::perms::all : fs::perms::owner_all | fs::perms::group_read
                                                                           | fs::perms::others_read);
        fs::permissions(m_openRoot, fs::perms::all);
    }
    void cleanupTestCase()
    {
        std::error_code ignored;
        fs::remove_all(m_openRoot, ignored);
    }

    // A full disk while the checkpoint is written: a tmpfs with room for the tokenizer
    // files and 64 KiB more (the weights need twice that), or a 100 KiB limit on the size of
    // any one file (the tokenizer.model copy is 240 KB).
    void fullDiskWhileWritingACheckpoint_data()
    {
        QTest::addColumn<QString>("how");
        QTest::addColumn<QString>("reason");
        QTest::addColumn<QString>("where");
        QTest::newRow("tmpfs full") << "tmpfs" << "No space left on device" << "model.safetensors";
        QTest::newRow("file size limit") << "rlimit" << "File too large" << "tokenizer.model";
    }
    void fullDiskWhileWritingACheckpoint()
    {
        QFETCH(QString, how);
        QFETCH(QString, reason);
        QFETCH(QString, where);
        std::unique_ptr<SmallTmpfs> disk;
        fs::path parent = m_root / ("out-" + how.toStdString());
        if (how == "tmpfs") {
            uint64_t sideFiles = 0;
            for (const auto &e : fs::directory_iterator(m_model))
                if (e.path().extension() != ".safetensors")
                    sideFiles += (e.file_size() + 4095) / 4096 * 4096;
            disk = std::make_unique<SmallTmpfs>(parent, sideFiles + (64 << 10));
            if (!disk->mounted())
                QSKIP(qPrintable("cannot mount a tmpfs here (" + QString::fromStdString(disk->error()) + ")"));
        }
        fs::create_directories(parent);
        const fs::path out = parent / "quantized";
        plantExistingOutput(out);
        const uint64_t freeBefore = disk ? disk->freeBytes() : 0;

        test::Thrown t;
        {
            std::unique_ptr<FileSizeLimit> limit;
            if (how == "rlimit")
                limit = std::make_unique<FileSizeLimit>(100 << 10);
            t = catchError([&] { quantizeModel(options(m_model, out)); });
        }
        qInfo("%s", t.message.c_str());
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::Io);
        QVERIFY2(contains(t.message, reason.toStdString()), t.message.c_str());
        QVERIFY2(contains(t.message, parent.string()) && contains(t.message, where.toStdString()),
                 "the message names the file");
        verifyExistingOutputIntact(out);
        QVERIFY(leftovers(parent).empty());
        if (disk)
            QCOMPARE(disk->freeBytes(), freeBefore); // every temporary byte given back
    }

    // The output's folder is read-only from the start: refused before any work.
    void readOnlyOutputFolderIsRefusedUpFront()
    {
        const fs::path parent = m_openRoot / "read-only";
        fs::create_directories(parent);
        fs::permissions(parent, fs::perms::owner_read | fs::perms::owner_exec | fs::perms::group_read
                                    | fs::perms::group_exec | fs::perms::others_read | fs::perms::others_exec);
        bool started = false;
        test::Thrown t;
        const bool ran = asUnprivileged([&] {
            t = catchError([&] {
                quantizeModel(unprivilegedOptions(parent / "quantized"), [&](const QuantEvent &) { started = true; });
            });
        });
        if (!ran)
            QSKIP("running as root without the right to change file-system ids (setfsuid)");
        qInfo("%s", t.message.c_str());
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::Io);
        QVERIFY2(contains(t.message, "Permission denied"), t.message.c_str());
        QVERIFY(!started);
        QVERIFY(fs::is_empty(parent));
    }

    // The folder turns read-only while the run writes: the error says so, the earlier
    // output stays, and the incomplete one, which cannot be removed either, is named.
    void outputFolderTurnsReadOnlyMidRun()
    {
        const fs::path parent = m_openRoot / "turns-read-only";
        fs::create_directories(parent);
        fs::permissions(parent, fs::perms::all);
        const fs::path out = parent / "quantized";
        plantExistingOutput(out);
        fs::permissions(out, fs::perms::all);
        const fs::perms readOnly = fs::perms::owner_read | fs::perms::owner_exec | fs::perms::others_read
                                   | fs::perms::others_exec | fs::perms::group_read | fs::perms::group_exec;
        fs::path partial;
        test::Thrown t;
        const bool ran = asUnprivileged([&] {
            t = catchError([&] {
                quantizeModel(unprivilegedOptions(out), [&](const QuantEvent &e) {
                    if (e.phase == QuantPhase::Writing && partial.empty()) {
                        for (const auto &entry : fs::directory_iterator(parent))
                            if (contains(entry.path().filename().string(), ".partial-"))
                                partial = entry.path();
                        fs::permissions(partial, readOnly);
                    }
                });
            });
        });
        if (!ran)
            QSKIP("running as root without the right to change file-system ids (setfsuid)");
        qInfo("%s", t.message.c_str());
        QVERIFY(!partial.empty());
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::Io);
        QVERIFY2(contains(t.message, "Permission denied"), t.message.c_str());
        QVERIFY2(contains(t.message, "could not be removed") && contains(t.message, partial.string()), t.message.c_str());
        verifyExistingOutputIntact(out);
        fs::permissions(partial, fs::perms::all);
        fs::remove_all(partial);
    }

    // Cancel at 10 random points of a run (seeded; the points are printed): each ends
    // Cancelled with the earlier output untouched and nothing else left.
    void cancelAtRandomPoints()
    {
        const fs::path parent = m_root / "cancels";
        const fs::path out = parent / "quantized";
        int events = 0;
        quantizeModel(options(m_model, parent / "count"), [&](const QuantEvent &e) {
            if (e.phase != QuantPhase::Done)
                ++events;
        });
        std::mt19937 rng(20261125);
        std::uniform_int_distribution<int> pick(1, events);
        QStringList points;
        for (int run = 0; run < 10; ++run) {
            const int at = run == 0 ? events : pick(rng); // the last one: while writing
            points << QString::number(at);
            plantExistingOutput(out);
            CancelToken cancel;
            int seen = 0;
            QuantPhase phase = QuantPhase::Loading;
            const test::Thrown t = catchError([&] {
                quantizeModel(options(m_model, out), [&](const QuantEvent &e) {
                    if (++seen == at) {
                        phase = e.phase;
                        cancel.cancel();
                    }
                }, cancel);
            });
            QVERIFY2(t.thrown && t.code == ErrorCode::Cancelled,
                     qPrintable(QStringLiteral("cancel at event %1 (phase %2): %3")
                                    .arg(at)
                                    .arg(phaseName(phase))
                                    .arg(QString::fromStdString(t.message))));
            verifyExistingOutputIntact(out);
            QVERIFY(leftovers(parent).empty());
        }
        qInfo("cancelled at events %s of %d", qPrintable(points.join(QStringLiteral(", "))), events);
    }

    // The model folder is deleted during layer 1: everything but the weights was read at the
    // start and the weight files stay open, so the run finishes with the same checkpoint as
    // an undisturbed one.
    void modelFolderDisappearsMidRun()
    {
        const fs::path reference = m_root / "undisturbed";
        quantizeModel(options(m_model, reference));
        const fs::path doomed = copyOfModel("doomed-model");
        const fs::path out = m_root / "after-disappearing";
        bool removed = false;
        quantizeModel(options(doomed, out), [&](const QuantEvent &e) {
            if (e.layer == 1 && !removed) {
                fs::remove_all(doomed);
                removed = true;
            }
        });
        QVERIFY(removed && !fs::exists(doomed));
        QVERIFY(readAll(out / "model.safetensors") == readAll(reference / "model.safetensors"));
        for (const char *file : {"tokenizer.model", "tokenizer_config.json"})
            QVERIFY2(readAll(out / file) == readAll(reference / file), file);
        QVERIFY(loadModel(out).config.quantization.present);
    }

    // A weight file rewritten in place (same bytes, new modification time; a truncation
    // would make the mapped pages fault) is noticed before its next tensor is read.
    void weightFileRewrittenInPlaceMidRun()
    {
        const fs::path model = copyOfModel("rewritten-model");
        const fs::path out = m_root / "after-rewrite";
        bool rewritten = false;
        const test::Thrown t = catchError([&] {
            quantizeModel(options(model, out), [&](const QuantEvent &e) {
                if (e.layer == 1 && !rewritten) {
                    const std::string bytes = readAll(model / "model.safetensors");
                    ::usleep(20000); // a modification time visibly later than the first
                    std::ofstream(model / "model.safetensors", std::ios::binary | std::ios::trunc) << bytes;
                    rewritten = true;
                }
            });
        });
        qInfo("%s", t.message.c_str());
        QVERIFY(rewritten && t.thrown);
        QCOMPARE(t.code, ErrorCode::Io);
        QVERIFY2(contains(t.message, "model.safetensors: the file changed on disk while it was being read"),
                 t.message.c_str());
        QVERIFY(!fs::exists(out));
        QVERIFY(leftovers(m_root).empty());

        // Replaced by a new file (write elsewhere, rename: what downloaders do): the open
        // file keeps its contents and the run completes.
        const fs::path replaced = copyOfModel("replaced-model");
        bool swapped = false;
        quantizeModel(options(replaced, m_root / "after-replace"), [&](const QuantEvent &e) {
            if (e.layer == 1 && !swapped) {
                fs::copy_file(replaced / "model.safetensors", replaced / "new.tmp");
                fs::rename(replaced / "new.tmp", replaced / "model.safetensors");
                swapped = true;
            }
        });
        QVERIFY(swapped && fs::exists(m_root / "after-replace" / "model.safetensors"));
    }

    void nanOrInfWeightsAreRefused_data()
    {
        QTest::addColumn<QString>("tensor");
        QTest::addColumn<double>("value");
        QTest::newRow("NaN in a linear") << "model.layers.1.mlp.up_proj.weight" << double(NAN);
        QTest::newRow("+inf in the embeddings") << "model.embed_tokens.weight" << double(INFINITY);
        QTest::newRow("-inf in a norm") << "model.layers.0.input_layernorm.weight" << -double(INFINITY);
    }
    void nanOrInfWeightsAreRefused()
    {
        QFETCH(QString, tensor);
        QFETCH(double, value);
        const fs::path model = copyOfModel("nan-model");
        editTensor(model / "model.safetensors", tensor.toStdString(),
                   [&](at::Tensor &t) { t.view(-1)[7] = value; });
        const fs::path out = m_root / "nan-out";
        plantExistingOutput(out);
        const test::Thrown t = catchError([&] { quantizeModel(options(model, out)); });
        qInfo("%s", t.message.c_str());
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::Format);
        QVERIFY2(contains(t.message, "tensor '" + tensor.toStdString() + "' holds 1 NaN or infinite value (the first "
                                     "at flat index 7)"),
                 t.message.c_str());
        verifyExistingOutputIntact(out);
        QVERIFY(leftovers(m_root).empty());
    }

    // Chatting with a model whose weights hold NaN: generation stops with the reason
    // instead of sorting NaN logits (undefined behaviour).
    void nanLogitsStopGenerationWithAReason()
    {
        const fs::path model = copyOfModel("nan-chat-model");
        editTensor(model / "model.safetensors", "model.norm.weight", [](at::Tensor &t) { t.fill_(NAN); });
        auto chat = chat::ChatModel::load(model);
        for (const double temperature : {0.0, 0.7}) {
            chat::ChatSettings settings;
            settings.temperature = temperature;
            settings.maxNewTokens = 4;
            const test::Thrown t = catchError([&] { chat->reply({{"user", "Hello there"}}, settings); });
            qInfo("%s", t.message.c_str());
            QVERIFY(t.thrown);
            QVERIFY2(contains(t.message, "the model produced a NaN logit"), t.message.c_str());
        }
    }

    // The memory estimate refuses a run that cannot fit, before the first layer.
    void tooLittleMemoryIsRefusedUpFront()
    {
        for (const QuantMethod method : {QuantMethod::Awq, QuantMethod::Rtn}) {
            const fs::path out = m_root / "no-memory";
            QuantOptions o = options(m_model, out);
            o.method = method;
            o.memoryLimitBytes = 64ull << 20;
            bool layerStarted = false;
            const test::Thrown t = catchError([&] {
                quantizeModel(o, [&](const QuantEvent &e) { layerStarted = layerStarted || e.layer >= 0; });
            });
            qInfo("%s", t.message.c_str());
            QVERIFY(t.thrown);
            QCOMPARE(t.code, ErrorCode::OutOfMemory);
            QVERIFY2(contains(t.message, "config.json: quantizing this model needs about")
                         && contains(t.message, "64.00 MiB is the memory limit set for this run"),
                     t.message.c_str());
            QVERIFY(!layerStarted);
            QVERIFY(!fs::exists(out));
            QVERIFY(leftovers(m_root).empty());
            o.checkMemory = false; // the user's override
            quantizeModel(o);
            QVERIFY(fs::exists(out / "model.safetensors"));
            fs::remove_all(out);
        }
    }

    // A run killed outright leaves its hidden partial folder, and one killed in the middle of
    // the swap also the earlier output moved aside. The next run for the same output removes
    // the partial folders of processes no longer alive and puts a moved-aside output back
    // (then refuses to overwrite it unless asked, as for any existing output).
    void leftoversOfAKilledRunAreCleared()
    {
        const pid_t dead = ::fork();
        if (dead == 0)
            ::_exit(0);
        QVERIFY(dead > 0);
        ::waitpid(dead, nullptr, 0);
        const fs::path parent = m_root / "killed";
        const fs::path out = parent / "quantized";
        const fs::path staleParts = parent / (".quantized.partial-" + std::to_string(dead));
        const fs::path movedAside = parent / (".quantized.old-" + std::to_string(dead));
        const fs::path alive = parent / (".quantized.partial-" + std::to_string(::getppid()));
        for (const fs::path &p : {staleParts, alive}) {
            fs::create_directories(p);
            std::ofstream(p / "model.safetensors") << "half";
        }
        plantExistingOutput(movedAside);

        QuantOptions o = options(m_model, out);
        o.overwrite = false;
        const test::Thrown t = catchError([&] { quantizeModel(o); });
        QVERIFY2(t.thrown && contains(t.message, "exists and is not empty"), t.message.c_str());
        QVERIFY(!fs::exists(staleParts));
        QVERIFY(!fs::exists(movedAside));
        verifyExistingOutputIntact(out); // put back where it was
        QVERIFY(fs::exists(alive));      // another live process's run: not ours to touch

        quantizeModel(options(m_model, out)); // overwrite allowed
        QVERIFY(fs::exists(out / "model.safetensors"));
        QVERIFY(fs::exists(alive));
    }

    // Saving a conversation onto a full disk keeps the earlier save whole.
    void failedSaveKeepsTheEarlierFile()
    {
        const fs::path file = m_root / "saves" / "chat.json";
        fs::create_directories(file.parent_path());
        chat::Conversation c;
        c.title = "short";
        c.turns.push_back({{"user", "hello"}, std::nullopt});
        chat::saveConversation(c, file);
        const std::string before = readAll(file);
        c.turns.push_back({{"assistant", std::string(64 << 10, 'x')}, chat::ReplyStats{}});
        test::Thrown t;
        {
            FileSizeLimit limit(16 << 10);
            t = catchError([&] { chat::saveConversation(c, file); });
        }
        qInfo("%s", t.message.c_str());
        QVERIFY(t.thrown);
        QCOMPARE(t.code, ErrorCode::Io);
        QVERIFY2(contains(t.message, file.string() + ": cannot save the conversation")
                     && contains(t.message, "File too large"),
                 t.message.c_str());
        QCOMPARE(readAll(file), before);
        QVERIFY(leftovers(file.parent_path()).empty());
        chat::saveConversation(c, file); // room again: saved whole
        QCOMPARE(chat::loadConversation(file).turns.size(), size_t(2));
    }
};

QTEST_GUILESS_MAIN(TestFaults)
#include "tst_faults.moc"
