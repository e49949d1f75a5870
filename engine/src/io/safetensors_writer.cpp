// Writing safetensors: tensor bytes stream to a temporary data file per shard as they
// are added; finish() writes each shard (length, header, data) under a temporary name,
// fsyncs, and only then renames everything into place. A failure or a writer dropped
// before finish() leaves the folder as it was.

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <unistd.h>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"

namespace awq {

namespace fs = std::filesystem;

namespace {

// A FILE* at a temporary `path` that names the file the user will see, `shownAs`, in every
// error, and closes on destruction.
class OutFile
{
public:
    OutFile(fs::path path, const fs::path &shownAs) : m_path(std::move(path)), m_shownAs(shownAs.string())
    {
        m_file = std::fopen(m_path.c_str(), "wb");
        AWQ_CHECK(m_file, Io, m_shownAs, ": cannot create (", std::strerror(errno), ")");
    }
    ~OutFile()
    {
        if (m_file)
            std::fclose(m_file);
    }
    void write(const void *data, size_t bytes)
    {
        if (bytes && std::fwrite(data, 1, bytes, m_file) != bytes)
            fail(ErrorCode::Io, m_shownAs, ": write failed (", std::strerror(errno), ")");
    }
    // Flushes to disk and closes; errors such as a full disk surface here at the latest.
    void commit()
    {
        const bool ok = std::fflush(m_file) == 0 && ::fsync(fileno(m_file)) == 0;
        const int err = errno;
        const bool closed = std::fclose(m_file) == 0;
        m_file = nullptr;
        AWQ_CHECK(ok && closed, Io, m_shownAs, ": write failed (", std::strerror(ok ? errno : err), ")");
    }
    const fs::path &path() const { return m_path; }

private:
    fs::path m_path;
    std::string m_shownAs;
    FILE *m_file = nullptr;
};

std::string shardName(const std::string &base, size_t index, size_t count)
{
    if (count == 1)
        return base + ".safetensors";
    char buf[64];
    std::snprintf(buf, sizeof buf, "-%05zu-of-%05zu.safetensors", index + 1, count);
    return base + buf;
}

} // namespace

struct SafetensorsWriter::Impl {
    struct Entry {
        std::string name;
        DType dtype;
        std::vector<int64_t> shape;
        uint64_t begin, end;
    };
    struct Shard {
        fs::path dataPath;
        std::unique_ptr<OutFile> data;
        uint64_t bytes = 0;
        std::vector<Entry> entries;
    };
    fs::path folder;
    SafetensorsWriteOptions options;
    std::vector<Shard> shards;
    std::set<std::string> names;
    std::vector<fs::path> temporaries;
    bool finished = false;

    fs::path temporary(const std::string &name)
    {
        fs::path p = folder / ("." + name + ".tmp-" + std::to_string(::getpid()));
        temporaries.push_back(p);
        return p;
    }
    void removeTemporaries()
    {
        for (auto &s : shards)
            s.data.reset();
        std::error_code ec;
        for (const auto &p : temporaries)
            fs::remove(p, ec);
        temporaries.clear();
    }
};

SafetensorsWriter::SafetensorsWriter(fs::path folder, SafetensorsWriteOptions options) : m_impl(std::make_unique<Impl>())
{
    m_impl->folder = std::move(folder);
    m_impl->options = std::move(options);
    AWQ_CHECK(m_impl->options.maxShardBytes > 0, InvalidArgument, "the shard size must be positive");
    std::error_code ec;
    fs::create_directories(m_impl->folder, ec);
    AWQ_CHECK(fs::is_directory(m_impl->folder), Io, m_impl->folder.string(), ": cannot create the folder (",
              ec.message(), ")");
}

SafetensorsWriter::~SafetensorsWriter()
{
    if (!m_impl->finished)
        m_impl->removeTemporaries();
}

void SafetensorsWriter::add(const std::string &name, const at::Tensor &tensor)
{
    Impl &w = *m_impl;
    AWQ_CHECK(!w.finished, InvalidArgument, "tensor '", name, "' added after finish()");
    AWQ_CHECK(!name.empty() && name != "__metadata__", InvalidArgument, "invalid tensor name '", name, "'");
    AWQ_CHECK(w.names.insert(name).second, InvalidArgument, "tensor '", name, "' is added twice");
    const DType dtype = fromScalarType(tensor.scalar_type());
    const at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    const uint64_t bytes = static_cast<uint64_t>(t.nbytes());
    if (w.shards.empty() || (!w.shards.back().entries.empty() && w.shards.back().bytes + bytes > w.options.maxShardBytes)) {
        Impl::Shard shard;
        shard.dataPath = w.temporary(w.options.baseName + "-data-" + std::to_string(w.shards.size()));
        // The shard's final name depends on how many there will be; errors show the first.
        shard.data = std::make_unique<OutFile>(shard.dataPath, w.folder / shardName(w.options.baseName, 0, 1));
        w.shards.push_back(std::move(shard));
    }
    Impl::Shard &shard = w.shards.back();
    shard.data->write(t.data_ptr(), bytes);
    shard.entries.push_back({name, dtype, t.sizes().vec(), shard.bytes, shard.bytes + bytes});
    shard.bytes += bytes;
}

std::vector<fs::path> SafetensorsWriter::finish()
{
    Impl &w = *m_impl;
    AWQ_CHECK(!w.finished, InvalidArgument, "finish() called twice");
    AWQ_CHECK(!w.shards.empty(), InvalidArgument, "no tensors to write");
    try {
        const size_t count = w.shards.size();
        std::vector<std::pair<fs::path, fs::path>> renames; // temporary -> final
        nlohmann::json weightMap = nlohmann::json::object();
        uint64_t totalSize = 0;
        for (size_t i = 0; i < count; ++i) {
            Impl::Shard &shard = w.shards[i];
            shard.data->commit();
            shard.data.reset();
            const std::string finalName = shardName(w.options.baseName, i, count);
            nlohmann::json header = nlohmann::json::object();
            if (!w.options.metadata.empty())
                header["__metadata__"] = w.options.metadata;
            for (const auto &e : shard.entries) {
                header[e.name] = {{"dtype", safetensorsName(e.dtype)}, {"shape", e.shape}, {"data_offsets", {e.begin, e.end}}};
                weightMap[e.name] = finalName;
            }
            std::string text = header.dump();
            text.append((8 - text.size() % 8) % 8, ' '); // keeps the data section 8-byte aligned
            uint8_t length[8];
            for (int b = 0; b < 8; ++b)
                length[b] = static_cast<uint8_t>((static_cast<uint64_t>(text.size()) >> (8 * b)) & 0xFF);

            OutFile out(w.temporary(finalName), w.folder / finalName);
            out.write(length, 8);
            out.write(text.data(), text.size());
            FILE *in = std::fopen(shard.dataPath.c_str(), "rb");
            AWQ_CHECK(in, Io, shard.dataPath.string(), ": cannot reopen (", std::strerror(errno), ")");
            std::vector<char> buffer(1 << 20);
            size_t got;
            while ((got = std::fread(buffer.data(), 1, buffer.size(), in)) > 0)
                out.write(buffer.data(), got);
            const bool readError = std::ferror(in);
            std::fclose(in);
            AWQ_CHECK(!readError, Io, shard.dataPath.string(), ": read failed");
            out.commit();
            renames.emplace_back(out.path(), w.folder / finalName);
            totalSize += shard.bytes;
        }
        const std::string indexName = w.options.baseName + ".safetensors.index.json";
        if (count > 1) {
            nlohmann::json index = {{"metadata", {{"total_size", totalSize}}}, {"weight_map", weightMap}};
            OutFile out(w.temporary(indexName), w.folder / indexName);
            const std::string text = index.dump(2) + "\n";
            out.write(text.data(), text.size());
            out.commit();
            renames.emplace_back(out.path(), w.folder / indexName);
        }
        std::vector<fs::path> written;
        for (const auto &[from, to] : renames) {
            std::error_code ec;
            fs::rename(from, to, ec);
            AWQ_CHECK(!ec, Io, to.string(), ": cannot move into place (", ec.message(), ")");
            written.push_back(to);
        }
        // A stale single file or index from an earlier checkpoint of the other shape would
        // shadow what was just written.
        std::error_code ec;
        fs::remove(w.folder / (count > 1 ? w.options.baseName + ".safetensors" : indexName), ec);
        w.finished = true;
        w.removeTemporaries();
        return written;
    } catch (...) {
        w.removeTemporaries();
        w.finished = true;
        throw;
    }
}

void writeSafetensorsFile(const fs::path &path, const std::vector<std::pair<std::string, at::Tensor>> &tensors,
                          const std::map<std::string, std::string> &metadata)
{
    SafetensorsWriteOptions options;
    options.metadata = metadata;
    options.maxShardBytes = UINT64_MAX;
    const std::string file = path.filename().string();
    const std::string suffix = ".safetensors";
    AWQ_CHECK(file.size() > suffix.size() && file.compare(file.size() - suffix.size(), suffix.size(), suffix) == 0,
              InvalidArgument, path.string(), ": the file name must end in .safetensors");
    options.baseName = file.substr(0, file.size() - suffix.size());
    SafetensorsWriter writer(path.has_parent_path() ? path.parent_path() : fs::path("."), options);
    for (const auto &[name, tensor] : tensors)
        writer.add(name, tensor);
    writer.finish();
}

} // namespace awq
