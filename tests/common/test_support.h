#pragma once
// Small helpers shared by the engine test suites: catching awq::Error with its code,
// exact floating-point comparison, tensors from vectors, files from strings.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>
#include <QtTest>

#include "awq/core/error.h"

namespace awq::test {

struct Thrown {
    bool thrown = false;
    ErrorCode code = ErrorCode::Internal;
    std::string message;
};

// Runs f and reports whether it threw awq::Error, with its code and message.
template <typename F>
Thrown catchError(F &&f)
{
    try {
        f();
    } catch (const awq::Error &e) {
        return {true, e.code(), e.what()};
    }
    return {};
}

using Shape = std::vector<int64_t>;

inline Shape shape(const at::Tensor &t)
{
    return t.sizes().vec();
}

// An owned tensor holding a copy of v's values.
template <typename T>
at::Tensor fromVector(const std::vector<T> &v, at::ScalarType type, at::IntArrayRef shape)
{
    return at::from_blob(const_cast<T *>(v.data()), shape, type).clone();
}

inline bool contains(const std::string &haystack, const std::string &needle)
{
    return haystack.find(needle) != std::string::npos;
}

inline void writeFile(const std::filesystem::path &path, const std::string &content)
{
    std::ofstream out(path, std::ios::binary);
    out << content;
}

} // namespace awq::test

// Exact equality of two numbers (QCOMPARE on floating point is fuzzy).
#define EXACT(actual, expected)                                                                             \
    QVERIFY2((actual) == (expected), qPrintable(QString::fromLatin1(#actual " = %1, expected %2")          \
                                                    .arg(double(actual), 0, 'g', 17)                         \
                                                    .arg(double(expected), 0, 'g', 17)))
