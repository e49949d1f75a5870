#pragma once
// Safetensors reading (mmap, validated header) and writing (sharded, atomic).
//
// Format: 8-byte little-endian header length N, N bytes of JSON
// {"name": {"dtype": "F16", "shape": [..], "data_offsets": [begin, end]}, "__metadata__": {..}},
// then the data section; offsets are relative to the start of the data section.
//
// Not thread-safe for writing; a SafetensorsFile may be read from several threads.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/io/dtype.h"

namespace awq {

struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;
    uint64_t fileOffset = 0; // absolute offset of the first byte in the file
    uint64_t byteSize = 0;

    int64_t numel() const;
};

// One .safetensors file, memory-mapped read-only. open() validates every header
// field against the file size before anything uses it and throws Error(Format)
// naming the file (and the tensor) on any violation.
class SafetensorsFile
{
public:
    static std::unique_ptr<SafetensorsFile> open(const std::filesystem::path &path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile &) = delete;
    SafetensorsFile &operator=(const SafetensorsFile &) = delete;

    const std::filesystem::path &path() const { return m_path; }
    uint64_t fileSize() const { return m_size; }
    const std::map<std::string, std::string> &metadata() const { return m_metadata; }
    // Tensor names in file order of their data offsets.
    const std::vector<std::string> &names() const { return m_order; }
    bool contains(const std::string &name) const { return m_tensors.count(name) != 0; }
    const TensorInfo &info(const std::string &name) const; // throws Error(NotFound)
    const uint8_t *data(const std::string &name) const;

    // A zero-copy CPU tensor over the mapped bytes. The memory is read-only: never
    // write to it; it lives as long as this object. Use load() for an owned copy.
    // Both first check that the file was not changed on disk since open() (see
    // checkUnchanged()).
    at::Tensor view(const std::string &name) const;
    // An owned, contiguous CPU copy converted to `dtype`.
    at::Tensor load(const std::string &name, c10::ScalarType dtype) const;
    // Tells the kernel the tensor's mapped pages are no longer needed, so they leave this
    // process's resident set (the quantizer reads a model once, layer by layer). Views stay
    // valid: touched again, the pages are read back from the file.
    void release(const std::string &name) const;
    // Throws Error(Io) when the file's size or modification time differ from what open()
    // saw: somebody rewrote it in place while it is being read. (Replacing it with a new
    // file, as downloaders do, is harmless: the open file keeps its old contents.) A file
    // truncated in place would make reading its mapped pages fault, so this is checked
    // before every tensor is touched; a change between this check and the read is not
    // caught.
    void checkUnchanged() const;

private:
    SafetensorsFile() = default;
    std::filesystem::path m_path;
    int m_fd = -1;
    const uint8_t *m_map = nullptr;
    uint64_t m_size = 0;
    int64_t m_mtimeNanoseconds = 0;
    std::map<std::string, TensorInfo> m_tensors;
    std::vector<std::string> m_order;
    std::map<std::string, std::string> m_metadata;
};

// All weights of a model folder: model.safetensors, or the shards listed in
// model.safetensors.index.json (weight_map entries must be plain file names inside
// the folder), or, failing both, every *.safetensors file in the folder.
class WeightStore
{
public:
    static std::unique_ptr<WeightStore> openFolder(const std::filesystem::path &folder);

    const std::filesystem::path &folder() const { return m_folder; }
    std::vector<std::string> names() const; // sorted
    bool contains(const std::string &name) const { return m_owner.count(name) != 0; }
    const TensorInfo &info(const std::string &name) const;
    const SafetensorsFile &fileOf(const std::string &name) const;
    at::Tensor view(const std::string &name) const;
    at::Tensor load(const std::string &name, c10::ScalarType dtype) const;
    void release(const std::string &name) const; // see SafetensorsFile::release
    const std::vector<std::unique_ptr<SafetensorsFile>> &files() const { return m_files; }
    uint64_t totalTensorBytes() const;

private:
    std::filesystem::path m_folder;
    std::vector<std::unique_ptr<SafetensorsFile>> m_files;
    std::map<std::string, const SafetensorsFile *> m_owner;
};

struct SafetensorsWriteOptions {
    std::string baseName = "model";              // model.safetensors / model-00001-of-00002.safetensors
    uint64_t maxShardBytes = 5ull * 1000 * 1000 * 1000; // HF's default "5GB"
    std::map<std::string, std::string> metadata = {{"format", "pt"}};
};

// Writes tensors into shards inside `folder`. Data goes to temporary files as it
// is added (memory stays bounded by one tensor); finish() writes the headers, the
// index (when there is more than one shard) and renames everything into place.
// If the writer is destroyed without finish(), or finish() fails, every temporary
// file is removed and nothing under the final names is created or replaced.
class SafetensorsWriter
{
public:
    SafetensorsWriter(std::filesystem::path folder, SafetensorsWriteOptions options = {});
    ~SafetensorsWriter();
    SafetensorsWriter(const SafetensorsWriter &) = delete;
    SafetensorsWriter &operator=(const SafetensorsWriter &) = delete;

    // Copies `tensor` (any device, any layout) to the current shard. Names must be unique.
    void add(const std::string &name, const at::Tensor &tensor);
    // Returns the final file names written (shards, then the index if any).
    std::vector<std::filesystem::path> finish();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Convenience: writes `tensors` as one file at `path` (temporary name, then rename).
void writeSafetensorsFile(const std::filesystem::path &path,
                          const std::vector<std::pair<std::string, at::Tensor>> &tensors,
                          const std::map<std::string, std::string> &metadata = {{"format", "pt"}});

c10::ScalarType toScalarType(DType dtype);
DType fromScalarType(c10::ScalarType type); // throws Error(InvalidArgument) for unsupported types

} // namespace awq
