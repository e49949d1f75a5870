// Reading safetensors: the file is mmap'ed read-only and its header is validated
// field by field against the file size before any tensor is touched, so that a
// corrupt or hostile file gives an Error naming the file and tensor, never a crash.

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "awq/io/safetensors.h"

namespace awq {

namespace {

constexpr uint64_t kMaxHeaderBytes = 100ull << 20; // 100 MiB: far above any real header
constexpr size_t kMaxRank = 16;                     // checkpoints hold 0- to 4-d tensors

std::string shapeText(const std::vector<int64_t> &shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

} // namespace

int64_t TensorInfo::numel() const
{
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

c10::ScalarType toScalarType(DType dtype)
{
    switch (dtype) {
    case DType::F64: return at::kDouble;
    case DType::F32: return at::kFloat;
    case DType::F16: return at::kHalf;
    case DType::BF16: return at::kBFloat16;
    case DType::I64: return at::kLong;
    case DType::I32: return at::kInt;
    case DType::I16: return at::kShort;
    case DType::I8: return at::kChar;
    case DType::U8: return at::kByte;
    case DType::Bool: return at::kBool;
    }
    fail(ErrorCode::Internal, "unknown dtype");
}

DType fromScalarType(c10::ScalarType type)
{
    switch (type) {
    case at::kDouble: return DType::F64;
    case at::kFloat: return DType::F32;
    case at::kHalf: return DType::F16;
    case at::kBFloat16: return DType::BF16;
    case at::kLong: return DType::I64;
    case at::kInt: return DType::I32;
    case at::kShort: return DType::I16;
    case at::kChar: return DType::I8;
    case at::kByte: return DType::U8;
    case at::kBool: return DType::Bool;
    default: break;
    }
    fail(ErrorCode::InvalidArgument, "tensors of type ", c10::toString(type), " cannot be stored in safetensors");
}

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path &path)
{
    std::unique_ptr<SafetensorsFile> file(new SafetensorsFile());
    file->m_path = path;
    const std::string name = path.string();

    // O_NONBLOCK: opening a FIFO planted in a model folder must not hang (it is refused below).
    file->m_fd = ::open(name.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (file->m_fd < 0)
        fail(errno == ENOENT ? ErrorCode::NotFound : ErrorCode::Io, name, ": cannot open (", std::strerror(errno), ")");
    struct stat st {};
    AWQ_CHECK(::fstat(file->m_fd, &st) == 0, Io, name, ": cannot stat (", std::strerror(errno), ")");
    AWQ_CHECK(S_ISREG(st.st_mode), Format, name, ": not a regular file");
    file->m_size = static_cast<uint64_t>(st.st_size);
    file->m_mtimeNanoseconds = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    AWQ_CHECK(file->m_size >= 8, Format, name, ": file is ", file->m_size,
              " bytes, too short for a safetensors header (truncated?)");

    void *map = ::mmap(nullptr, file->m_size, PROT_READ, MAP_PRIVATE, file->m_fd, 0);
    AWQ_CHECK(map != MAP_FAILED, Io, name, ": cannot map into memory (", std::strerror(errno), ")");
    file->m_map = static_cast<const uint8_t *>(map);

    uint64_t headerLength = 0;
    for (int i = 7; i >= 0; --i)
        headerLength = (headerLength << 8) | file->m_map[i];
    AWQ_CHECK(headerLength <= kMaxHeaderBytes, Format, name, ": header length ", headerLength,
              " bytes is implausibly large (corrupt file?)");
    AWQ_CHECK(headerLength >= 2 && headerLength <= file->m_size - 8, Format, name, ": header length ", headerLength,
              " does not fit in the file (", file->m_size, " bytes; truncated?)");
    const uint64_t dataStart = 8 + headerLength;
    const uint64_t dataSize = file->m_size - dataStart;

    // Duplicate tensor names are refused: readers that keep the first and readers that keep
    // the last would otherwise load different weights from the same file.
    const nlohmann::json header = parseJsonText(
        std::string_view(reinterpret_cast<const char *>(file->m_map + 8), headerLength), name + ": header", true);
    AWQ_CHECK(header.is_object(), Format, name, ": header is not a JSON object");

    std::vector<const TensorInfo *> byOffset;
    for (const auto &[key, value] : header.items()) {
        if (key == "__metadata__") {
            AWQ_CHECK(value.is_object(), Format, name, ": __metadata__ is not an object");
            for (const auto &[mk, mv] : value.items()) {
                AWQ_CHECK(mv.is_string(), Format, name, ": __metadata__ value for '", mk, "' is not a string");
                file->m_metadata[mk] = mv.get<std::string>();
            }
            continue;
        }
        const std::string where = name + ": tensor '" + key + "'";
        AWQ_CHECK(value.is_object(), Format, where, ": entry is not an object");
        AWQ_CHECK(value.contains("dtype") && value["dtype"].is_string(), Format, where, ": missing 'dtype'");
        AWQ_CHECK(value.contains("shape") && value["shape"].is_array(), Format, where, ": missing 'shape'");
        AWQ_CHECK(value.contains("data_offsets") && value["data_offsets"].is_array()
                      && value["data_offsets"].size() == 2,
                  Format, where, ": missing 'data_offsets' [begin, end]");
        TensorInfo info;
        info.name = key;
        const std::string dtypeName = value["dtype"].get<std::string>();
        auto dtype = dtypeFromSafetensorsName(dtypeName);
        AWQ_CHECK(dtype.has_value(), Format, where, ": unknown dtype '", dtypeName, "'");
        info.dtype = *dtype;
        AWQ_CHECK(value["shape"].size() <= kMaxRank, Format, where, ": shape has ", value["shape"].size(),
                  " dimensions (at most ", kMaxRank, " are accepted)");
        uint64_t numel = 1;
        for (const auto &dim : value["shape"]) {
            AWQ_CHECK(dim.is_number_integer() && dim.get<int64_t>() >= 0, Format, where,
                      ": shape must hold non-negative integers, got ", jsonPreview(value["shape"]));
            const auto d = static_cast<uint64_t>(dim.get<int64_t>());
            // numel * 8 bytes must fit in int64 (tensor sizes and offsets are int64 in LibTorch).
            AWQ_CHECK(d == 0 || numel <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / 8 / d, Format,
                      where, ": shape ", jsonPreview(value["shape"]), " overflows a 64-bit byte count");
            numel *= d;
            info.shape.push_back(static_cast<int64_t>(d));
        }
        const auto &offsets = value["data_offsets"];
        AWQ_CHECK(offsets[0].is_number_unsigned() && offsets[1].is_number_unsigned(), Format, where,
                  ": data_offsets must be non-negative integers, got ", jsonPreview(offsets));
        const uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
        AWQ_CHECK(begin <= end, Format, where, ": data_offsets [", begin, ", ", end, "] end before they begin");
        AWQ_CHECK(end <= dataSize, Format, where, ": data_offsets [", begin, ", ", end,
                  "] exceed the data section (", dataSize, " bytes; truncated?)");
        info.byteSize = end - begin;
        AWQ_CHECK(info.byteSize == numel * dtypeSize(info.dtype), Format, where, ": ", info.byteSize,
                  " bytes stored, but shape ", shapeText(info.shape), " of ", dtypeName, " needs ",
                  numel * dtypeSize(info.dtype));
        info.fileOffset = dataStart + begin;
        file->m_tensors.emplace(key, std::move(info));
    }
    for (const auto &[key, info] : file->m_tensors)
        byOffset.push_back(&info);
    std::sort(byOffset.begin(), byOffset.end(), [](const TensorInfo *a, const TensorInfo *b) {
        return a->fileOffset != b->fileOffset ? a->fileOffset < b->fileOffset : a->name < b->name;
    });
    // Sorted by start, a tensor overlaps an earlier one iff it starts before the
    // furthest end seen so far (empty tensors occupy no bytes).
    const TensorInfo *furthest = nullptr;
    for (const TensorInfo *t : byOffset) {
        if (t->byteSize > 0) {
            AWQ_CHECK(!furthest || furthest->fileOffset + furthest->byteSize <= t->fileOffset, Format, name,
                      ": tensors '", furthest ? furthest->name : "", "' and '", t->name, "' overlap");
            if (!furthest || t->fileOffset + t->byteSize > furthest->fileOffset + furthest->byteSize)
                furthest = t;
        }
        file->m_order.push_back(t->name);
    }
    return file;
}

SafetensorsFile::~SafetensorsFile()
{
    if (m_map)
        ::munmap(const_cast<uint8_t *>(m_map), m_size);
    if (m_fd >= 0)
        ::close(m_fd);
}

const TensorInfo &SafetensorsFile::info(const std::string &name) const
{
    auto it = m_tensors.find(name);
    AWQ_CHECK(it != m_tensors.end(), NotFound, m_path.string(), ": no tensor '", name, "'");
    return it->second;
}

const uint8_t *SafetensorsFile::data(const std::string &name) const
{
    return m_map + info(name).fileOffset;
}

void SafetensorsFile::checkUnchanged() const
{
    struct stat st {};
    AWQ_CHECK(::fstat(m_fd, &st) == 0, Io, m_path.string(), ": cannot stat (", std::strerror(errno), ")");
    const int64_t mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    AWQ_CHECK(static_cast<uint64_t>(st.st_size) == m_size && mtime == m_mtimeNanoseconds, Io, m_path.string(),
              ": the file changed on disk while it was being read (", m_size, " bytes when opened, ", st.st_size,
              " now); the model folder must not change during a run, start again");
}

at::Tensor SafetensorsFile::view(const std::string &name) const
{
    const TensorInfo &t = info(name);
    checkUnchanged();
    const auto type = toScalarType(t.dtype);
    if (t.byteSize == 0)
        return at::empty(t.shape, at::TensorOptions().dtype(type));
    // from_blob needs element-aligned memory; unaligned data (legal in safetensors) is copied.
    const uint8_t *ptr = m_map + t.fileOffset;
    if (reinterpret_cast<uintptr_t>(ptr) % dtypeSize(t.dtype) != 0) {
        auto copy = at::empty(t.shape, at::TensorOptions().dtype(type));
        std::memcpy(copy.data_ptr(), ptr, t.byteSize);
        return copy;
    }
    return at::from_blob(const_cast<uint8_t *>(ptr), t.shape, at::TensorOptions().dtype(type));
}

void SafetensorsFile::release(const std::string &name) const
{
    const TensorInfo &t = info(name);
    const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
    const uintptr_t begin = reinterpret_cast<uintptr_t>(m_map + t.fileOffset);
    const uintptr_t first = (begin + page - 1) / page * page;
    const uintptr_t last = (begin + t.byteSize) / page * page;
    // The mapping is read-only and never written, so dropped pages are re-read from the file
    // if they are touched again: this is advice, views stay valid.
    if (last > first)
        ::madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
}

at::Tensor SafetensorsFile::load(const std::string &name, c10::ScalarType dtype) const
{
    auto v = view(name);
    // clone() when no conversion happens, so the result never aliases the mapping.
    return v.scalar_type() == dtype ? v.clone() : v.to(dtype);
}

} // namespace awq
