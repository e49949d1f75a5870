#pragma once
// Errors inside the engine. Engine code throws awq::Error (never aborts); code that
// crosses a boundary (CLI main, a UI worker slot, a C interface) catches it, or
// uses awq::guarded() to turn it into a Result<T>.

#include <sstream>
#include <stdexcept>
#include <string>

namespace awq {

enum class ErrorCode {
    InvalidArgument,  // a request that cannot be honoured (bad option, bad shape)
    NotFound,         // a file, folder or tensor that is not there
    Io,               // the operating system refused (read, write, mmap, rename, disk full)
    Format,           // a file is there but malformed (safetensors, json, tokenizer)
    UnsupportedModel, // a well-formed model this engine does not run
    OutOfMemory,
    Device,           // CUDA or another accelerator failed
    Cancelled,        // the user asked to stop: an outcome, not a failure
    Internal,         // a broken invariant: a bug in AWQ Studio
};

const char *errorCodeName(ErrorCode code);

class Error : public std::runtime_error
{
public:
    Error(ErrorCode code, const std::string &message) : std::runtime_error(message), m_code(code) {}
    ErrorCode code() const { return m_code; }

private:
    ErrorCode m_code;
};

namespace detail {
template <typename... Args>
std::string concat(const Args &...args)
{
    std::ostringstream out;
    (out << ... << args);
    return out.str();
}
} // namespace detail

template <typename... Args>
[[noreturn]] void fail(ErrorCode code, const Args &...args)
{
    throw Error(code, detail::concat(args...));
}

} // namespace awq

// AWQ_CHECK(cond, code, parts...): throws awq::Error(code, concatenated parts) when cond is false.
#define AWQ_CHECK(cond, code, ...)                                                                     \
    do {                                                                                               \
        if (!(cond))                                                                                   \
            ::awq::fail(::awq::ErrorCode::code, __VA_ARGS__);                                          \
    } while (0)

// AWQ_ASSERT(cond, parts...): an internal invariant; throws ErrorCode::Internal.
#define AWQ_ASSERT(cond, ...)                                                                          \
    do {                                                                                               \
        if (!(cond))                                                                                   \
            ::awq::fail(::awq::ErrorCode::Internal, "internal error (", __FILE__, ":", __LINE__, "): ", \
                        __VA_ARGS__);                                                                  \
    } while (0)
