// Note [sentencepiece isolation]
// Debian's libsentencepiece0 carries its own copy of protobuf 3.14 and exports its
// symbols, while LibTorch loads libprotobuf.so.32 (3.21). Linked into one process, the
// two collide: a crash at start-up, or a protobuf version abort on the first Load().
// Link order does not help. So sentencepiece is linked only into libawq_spm.so, a
// shim with a C interface (spm_shim_api.h), and the engine dlopen()s it with
// RTLD_LOCAL | RTLD_DEEPBIND: the shim's protobuf references then bind to the copy
// inside libsentencepiece instead of LibTorch's. Nothing else may link sentencepiece.

#include "spm_loader.h"

#include <dlfcn.h>
#include <mutex>
#include <unistd.h>

#include "awq/core/error.h"
#include "spm_shim_api.h"

namespace awq {

namespace fs = std::filesystem;

struct SpmApi {
    decltype(&awq_spm_abi_version) abiVersion;
    decltype(&awq_spm_load) load;
    decltype(&awq_spm_free) free;
    decltype(&awq_spm_free_string) freeString;
    decltype(&awq_spm_encode) encode;
    decltype(&awq_spm_decode) decode;
    decltype(&awq_spm_vocab_size) vocabSize;
    decltype(&awq_spm_id_to_piece) idToPiece;
    decltype(&awq_spm_piece_to_id) pieceToId;
    decltype(&awq_spm_bos_id) bosId;
    decltype(&awq_spm_eos_id) eosId;
    decltype(&awq_spm_unk_id) unkId;
    decltype(&awq_spm_pad_id) padId;
    decltype(&awq_spm_is_control) isControl;
    decltype(&awq_spm_is_unknown) isUnknown;
    decltype(&awq_spm_train) train;
};

namespace {

constexpr const char *kLibraryName = "libawq_spm.so";

std::vector<fs::path> candidatePaths()
{
    std::vector<fs::path> paths;
    if (const char *env = std::getenv("AWQ_SPM_LIBRARY"); env && *env)
        paths.emplace_back(env);
    std::error_code ec;
    const fs::path exe = fs::read_symlink("/proc/self/exe", ec);
    if (!ec) {
        paths.push_back(exe.parent_path() / kLibraryName);
        paths.push_back(exe.parent_path().parent_path() / "lib" / "awq-studio" / kLibraryName);
    }
#ifdef AWQ_SPM_INSTALL_DIR
    paths.push_back(fs::path(AWQ_SPM_INSTALL_DIR) / kLibraryName);
#endif
#ifdef AWQ_SPM_BUILD_DIR
    paths.push_back(fs::path(AWQ_SPM_BUILD_DIR) / kLibraryName);
#endif
    return paths;
}

template <typename Fn>
void resolve(void *handle, const char *symbol, Fn &target, const fs::path &path)
{
    target = reinterpret_cast<Fn>(::dlsym(handle, symbol));
    AWQ_CHECK(target != nullptr, Internal, path.string(), ": symbol ", symbol, " is missing (a stale build?)");
}

SpmApi loadApi()
{
    std::string tried;
    for (const auto &path : candidatePaths()) {
        std::error_code ec;
        if (!fs::is_regular_file(path, ec)) {
            tried += "\n  " + path.string() + " (not found)";
            continue;
        }
        void *handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
        if (!handle) {
            tried += "\n  " + path.string() + " (" + ::dlerror() + ")";
            continue;
        }
        SpmApi api{};
        resolve(handle, "awq_spm_abi_version", api.abiVersion, path);
        AWQ_CHECK(api.abiVersion() == AWQ_SPM_ABI_VERSION, Internal, path.string(), ": interface version ",
                  api.abiVersion(), ", expected ", AWQ_SPM_ABI_VERSION, " (a stale build?)");
        resolve(handle, "awq_spm_load", api.load, path);
        resolve(handle, "awq_spm_free", api.free, path);
        resolve(handle, "awq_spm_free_string", api.freeString, path);
        resolve(handle, "awq_spm_encode", api.encode, path);
        resolve(handle, "awq_spm_decode", api.decode, path);
        resolve(handle, "awq_spm_vocab_size", api.vocabSize, path);
        resolve(handle, "awq_spm_id_to_piece", api.idToPiece, path);
        resolve(handle, "awq_spm_piece_to_id", api.pieceToId, path);
        resolve(handle, "awq_spm_bos_id", api.bosId, path);
        resolve(handle, "awq_spm_eos_id", api.eosId, path);
        resolve(handle, "awq_spm_unk_id", api.unkId, path);
        resolve(handle, "awq_spm_pad_id", api.padId, path);
        resolve(handle, "awq_spm_is_control", api.isControl, path);
        resolve(handle, "awq_spm_is_unknown", api.isUnknown, path);
        resolve(handle, "awq_spm_train", api.train, path);
        return api; // the handle stays open for the life of the process
    }
    fail(ErrorCode::NotFound, "the sentencepiece shim ", kLibraryName,
         " was not found; set AWQ_SPM_LIBRARY to its path. Tried:", tried);
}

const SpmApi &api()
{
    // Loaded once; a failed load is retried on the next call (the error is reported each time).
    static std::mutex mutex;
    static std::unique_ptr<SpmApi> loaded;
    std::lock_guard<std::mutex> lock(mutex);
    if (!loaded)
        loaded = std::make_unique<SpmApi>(loadApi());
    return *loaded;
}

// Takes ownership of a malloc'ed, NUL-terminated string from the shim.
std::string takeString(const SpmApi &api, char *text)
{
    std::string out = text ? text : "";
    api.freeString(text);
    return out;
}

// The same for text of a known length, which may contain NULs (decoded text).
std::string takeString(const SpmApi &api, char *text, size_t length)
{
    std::string out = text ? std::string(text, length) : std::string();
    api.freeString(text);
    return out;
}

} // namespace

SpmModel::SpmModel(const fs::path &file) : m_api(api()), m_file(file)
{
    AWQ_CHECK(fs::is_regular_file(file), NotFound, file.string(), ": not found");
    char *error = nullptr;
    m_model = m_api.load(file.c_str(), &error);
    if (!m_model)
        fail(ErrorCode::Format, file.string(), ": not a valid sentencepiece model (", takeString(m_api, error), ")");
}

SpmModel::~SpmModel()
{
    if (m_model)
        m_api.free(m_model);
}

std::vector<int32_t> SpmModel::encode(const std::string &text) const
{
    std::vector<int32_t> ids(text.size() + 16);
    int64_t n = m_api.encode(m_model, text.data(), text.size(), ids.data(), ids.size());
    AWQ_CHECK(n >= 0, Internal, m_file.string(), ": sentencepiece could not encode the text");
    if (static_cast<size_t>(n) > ids.size()) {
        ids.resize(static_cast<size_t>(n));
        n = m_api.encode(m_model, text.data(), text.size(), ids.data(), ids.size());
    }
    ids.resize(static_cast<size_t>(n));
    return ids;
}

std::string SpmModel::decode(const std::vector<int32_t> &ids) const
{
    char *out = nullptr;
    size_t length = 0;
    AWQ_CHECK(m_api.decode(m_model, ids.data(), ids.size(), &out, &length) == 0, InvalidArgument, m_file.string(),
              ": sentencepiece could not decode the ids");
    return takeString(m_api, out, length); // a <0x00> piece decodes to a NUL byte: keep what follows it
}

int32_t SpmModel::vocabSize() const { return m_api.vocabSize(m_model); }

std::string SpmModel::idToPiece(int32_t id) const
{
    char *out = nullptr;
    AWQ_CHECK(m_api.idToPiece(m_model, id, &out) == 0, InvalidArgument, "token id ", id,
              " is outside the vocabulary of ", vocabSize());
    return takeString(m_api, out);
}

int32_t SpmModel::pieceToId(const std::string &piece) const { return m_api.pieceToId(m_model, piece.c_str()); }
int32_t SpmModel::bosId() const { return m_api.bosId(m_model); }
int32_t SpmModel::eosId() const { return m_api.eosId(m_model); }
int32_t SpmModel::unkId() const { return m_api.unkId(m_model); }
int32_t SpmModel::padId() const { return m_api.padId(m_model); }
bool SpmModel::isControl(int32_t id) const { return m_api.isControl(m_model, id) != 0; }
bool SpmModel::isUnknown(int32_t id) const { return m_api.isUnknown(m_model, id) != 0; }

void SpmModel::train(const std::string &arguments)
{
    const SpmApi &a = api();
    char *error = nullptr;
    if (a.train(arguments.c_str(), &error) != 0)
        fail(ErrorCode::InvalidArgument, "sentencepiece training failed: ", takeString(a, error));
}

} // namespace awq
