#pragma once
// SlotRunner: the model side of the server. N slots (one model instance each, its own KV
// cache), each with its own worker thread, take queued generation jobs in arrival order.
// Admission is bounded: at most slots + maxWaiting requests are in the system (running or
// waiting); reserve() refuses beyond that (the server answers 429), and refuses everything
// once draining began (503). The same worker threads serve every request, so the math
// library's thread pools are made once per slot rather than once per connection.

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <list>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "awq/core/cancel.h"

namespace awq::serve {

class SlotRunner
{
public:
    enum class Refusal { QueueFull, Draining };

    // A place in the queue, held from admission until its job finished (or until dropped
    // unused, e.g. when the client left before its stream began). Move-only.
    class Reservation
    {
    public:
        Reservation(Reservation &&other) noexcept;
        Reservation &operator=(Reservation &&other) noexcept;
        ~Reservation();
        // Queues `work` (run on a slot's thread with the slot index). The future is ready
        // when it ran; it holds what `work` threw. `cancel` is set by cancelAll().
        std::future<void> run(std::function<void(size_t slot)> work, const CancelToken &cancel);

    private:
        friend class SlotRunner;
        explicit Reservation(SlotRunner *runner) : m_runner(runner) {}
        SlotRunner *m_runner;
    };

    SlotRunner(size_t slots, size_t maxWaiting);
    ~SlotRunner(); // cancels what is left, then joins the workers
    SlotRunner(const SlotRunner &) = delete;
    SlotRunner &operator=(const SlotRunner &) = delete;

    // A reservation, or why not.
    std::optional<Reservation> reserve(Refusal *why);

    // Refuse new work from now on (reserve() gives Draining).
    void beginDrain();
    bool draining() const;
    // Waits until nothing is running or waiting; false on timeout.
    bool waitIdle(std::chrono::milliseconds timeout);
    // Cancels every queued and running job's token.
    void cancelAll();

    size_t slots() const { return m_workers.size(); }
    size_t running() const;
    size_t waiting() const; // admitted, not running yet

private:
    struct Job {
        std::function<void(size_t)> work;
        std::promise<void> done; // set after the job's place was given back
        CancelToken cancel;
    };
    void workerLoop(size_t slot);
    void release();

    const size_t m_capacity;
    mutable std::mutex m_mutex;
    std::condition_variable m_wake, m_idle;
    std::deque<Job> m_queue;
    std::list<CancelToken> m_runningTokens;
    size_t m_inSystem = 0, m_running = 0;
    bool m_draining = false, m_stopping = false;
    std::vector<std::thread> m_workers;
};

} // namespace awq::serve
