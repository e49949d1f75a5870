#pragma once
// Element types of tensors stored in safetensors files, independent of LibTorch.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace awq {

enum class DType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, Bool };

// "F32", "BF16", ... as written in safetensors headers; nullopt for an unknown name.
std::optional<DType> dtypeFromSafetensorsName(const std::string &name);
const char *safetensorsName(DType dtype);
std::size_t dtypeSize(DType dtype);

} // namespace awq
