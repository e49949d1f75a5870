// A model folder's weights: one safetensors file, the shards named by
// model.safetensors.index.json, or every *.safetensors file in the folder.

#include <algorithm>
#include <fstream>

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/io/json_file.h"
#include "awq/io/safetensors.h"

namespace awq {

namespace fs = std::filesystem;

namespace {

// Index entries name files inside the folder: no separators, no "..", no absolute paths.
bool isPlainFileName(const std::string &name)
{
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos
           && name.find('\\') == std::string::npos && name.find('\0') == std::string::npos;
}

std::map<std::string, std::string> readIndex(const fs::path &indexPath)
{
    const std::string where = indexPath.string();
    const nlohmann::json index = readJsonFile(indexPath);
    AWQ_CHECK(index.is_object() && index.contains("weight_map") && index["weight_map"].is_object(), Format, where,
              ": no 'weight_map' object");
    std::map<std::string, std::string> weightMap;
    for (const auto &[tensor, file] : index["weight_map"].items()) {
        AWQ_CHECK(file.is_string(), Format, where, ": weight_map entry for '", tensor, "' is not a file name");
        const std::string fileName = file.get<std::string>();
        AWQ_CHECK(isPlainFileName(fileName), Format, where, ": weight_map entry for '", tensor, "' names '",
                  fileName, "', which is not a plain file name inside the model folder");
        weightMap[tensor] = fileName;
    }
    AWQ_CHECK(!weightMap.empty(), Format, where, ": weight_map is empty");
    return weightMap;
}

// True when `path` lies strictly inside `dir` (both canonical).
bool isInside(const fs::path &path, const fs::path &dir)
{
    const auto [d, p] = std::mismatch(dir.begin(), dir.end(), path.begin(), path.end());
    return d == dir.end() && p != path.end();
}

// A weight file may be a symbolic link, as in the Hugging Face cache, where
// snapshots/<revision>/<file> links to ../../blobs/<hash>. It must resolve to a regular
// file inside the model folder or, for a cache snapshot, inside the repository's blobs/.
// `where` names the file that listed it (the index) or the file itself.
void checkInsideFolder(const fs::path &folder, const std::string &file, const std::string &where)
{
    std::error_code ec;
    const fs::path root = fs::canonical(folder, ec);
    AWQ_CHECK(!ec, Io, folder.string(), ": cannot resolve the folder (", ec.message(), ")");
    const fs::path target = fs::canonical(folder / file, ec);
    AWQ_CHECK(!ec, NotFound, where, ": '", file, "' cannot be resolved (", ec.message(), "; a dangling link?)");
    bool inside = isInside(target, root);
    if (!inside && root.parent_path().filename() == "snapshots")
        inside = isInside(target, root.parent_path().parent_path() / "blobs");
    AWQ_CHECK(inside, Format, where, ": '", file, "' is a link to ", target.string(),
              ", outside the model folder; refusing to read it");
    AWQ_CHECK(fs::is_regular_file(target, ec), Format, where, ": '", file, "' is not a regular file");
}

} // namespace

std::unique_ptr<WeightStore> WeightStore::openFolder(const fs::path &folder)
{
    AWQ_CHECK(fs::is_directory(folder), NotFound, folder.string(), ": no such folder");
    std::unique_ptr<WeightStore> store(new WeightStore());
    store->m_folder = folder;

    std::vector<std::string> files;
    std::map<std::string, std::string> weightMap;
    const fs::path single = folder / "model.safetensors";
    const fs::path index = folder / "model.safetensors.index.json";
    if (fs::is_regular_file(single)) {
        files.push_back("model.safetensors");
    } else if (fs::is_regular_file(index)) {
        weightMap = readIndex(index);
        for (const auto &[tensor, file] : weightMap)
            if (std::find(files.begin(), files.end(), file) == files.end())
                files.push_back(file);
        for (const auto &file : files)
            AWQ_CHECK(fs::is_regular_file(folder / file), NotFound, index.string(), ": shard '", file,
                      "' is listed but missing from the folder");
    } else {
        for (const auto &entry : fs::directory_iterator(folder))
            if (entry.is_regular_file() && entry.path().extension() == ".safetensors")
                files.push_back(entry.path().filename().string());
        std::sort(files.begin(), files.end());
    }
    AWQ_CHECK(!files.empty(), NotFound, folder.string(),
              ": no weights found (expected model.safetensors, model.safetensors.index.json or *.safetensors)");

    for (const auto &file : files) {
        checkInsideFolder(folder, file, weightMap.empty() ? (folder / file).string() : index.string());
        store->m_files.push_back(SafetensorsFile::open(folder / file));
        const SafetensorsFile *opened = store->m_files.back().get();
        for (const auto &name : opened->names()) {
            auto [it, inserted] = store->m_owner.emplace(name, opened);
            AWQ_CHECK(inserted, Format, folder.string(), ": tensor '", name, "' is stored twice (in ",
                      it->second->path().filename().string(), " and ", file, ")");
        }
    }
    for (const auto &[tensor, file] : weightMap) {
        auto it = store->m_owner.find(tensor);
        AWQ_CHECK(it != store->m_owner.end() && it->second->path().filename() == file, Format, index.string(),
                  ": tensor '", tensor, "' is listed in ", file, " but is not stored there");
    }
    return store;
}

std::vector<std::string> WeightStore::names() const
{
    std::vector<std::string> out;
    for (const auto &[name, file] : m_owner)
        out.push_back(name);
    return out;
}

const SafetensorsFile &WeightStore::fileOf(const std::string &name) const
{
    auto it = m_owner.find(name);
    AWQ_CHECK(it != m_owner.end(), NotFound, m_folder.string(), ": no tensor '", name, "'");
    return *it->second;
}

const TensorInfo &WeightStore::info(const std::string &name) const
{
    return fileOf(name).info(name);
}

at::Tensor WeightStore::view(const std::string &name) const
{
    return fileOf(name).view(name);
}

at::Tensor WeightStore::load(const std::string &name, c10::ScalarType dtype) const
{
    return fileOf(name).load(name, dtype);
}

void WeightStore::release(const std::string &name) const
{
    fileOf(name).release(name);
}

uint64_t WeightStore::totalTensorBytes() const
{
    uint64_t total = 0;
    for (const auto &[name, file] : m_owner)
        total += file->info(name).byteSize;
    return total;
}

} // namespace awq
