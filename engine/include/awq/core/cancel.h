#pragma once
// CancelToken: shared between the thread that asks to stop (the GUI, a signal handler)
// and the thread doing the work, which polls it at safe points (between layers,
// tokens, benchmark iterations) and then throws Error(Cancelled).

#include <atomic>
#include <memory>

#include "awq/core/error.h"

namespace awq {

class CancelToken
{
public:
    CancelToken() : m_flag(std::make_shared<std::atomic<bool>>(false)) {}
    void cancel() const { m_flag->store(true, std::memory_order_relaxed); }
    bool isCancelled() const { return m_flag->load(std::memory_order_relaxed); }
    void throwIfCancelled() const
    {
        if (isCancelled())
            throw Error(ErrorCode::Cancelled, "cancelled");
    }

private:
    std::shared_ptr<std::atomic<bool>> m_flag;
};

} // namespace awq
