#pragma once
// Result<T>: a value or an awq::Error, for APIs that callers on other threads
// (the UI's workers) consume without exceptions. guarded() converts.

#include <new>
#include <optional>
#include <utility>

#include "awq/core/error.h"

namespace awq {

struct ErrorInfo {
    ErrorCode code = ErrorCode::Internal;
    std::string message;
};

template <typename T>
class Result
{
public:
    Result(T value) : m_value(std::move(value)) {}
    Result(ErrorInfo error) : m_error(std::move(error)) {}

    bool ok() const { return m_value.has_value(); }
    explicit operator bool() const { return ok(); }
    const T &value() const & { return *m_value; }
    T &value() & { return *m_value; }
    T &&value() && { return std::move(*m_value); }
    const ErrorInfo &error() const { return m_error; }

private:
    std::optional<T> m_value;
    ErrorInfo m_error;
};

// Runs fn() and returns its value, or the error it threw (awq::Error, std::bad_alloc,
// any std::exception), so that no exception crosses the caller's boundary.
template <typename Fn>
auto guarded(Fn &&fn) -> Result<decltype(fn())>
{
    try {
        return fn();
    } catch (const Error &e) {
        return ErrorInfo{e.code(), e.what()};
    } catch (const std::bad_alloc &) {
        return ErrorInfo{ErrorCode::OutOfMemory, "out of memory"};
    } catch (const std::exception &e) {
        return ErrorInfo{ErrorCode::Internal, e.what()};
    }
}

} // namespace awq
