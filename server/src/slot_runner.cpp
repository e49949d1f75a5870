#include "awq/serve/slot_runner.h"

#include <algorithm>

namespace awq::serve {

SlotRunner::Reservation::Reservation(Reservation &&other) noexcept : m_runner(other.m_runner)
{
    other.m_runner = nullptr;
}

SlotRunner::Reservation &SlotRunner::Reservation::operator=(Reservation &&other) noexcept
{
    if (this != &other) {
        if (m_runner)
            m_runner->release();
        m_runner = other.m_runner;
        other.m_runner = nullptr;
    }
    return *this;
}

SlotRunner::Reservation::~Reservation()
{
    if (m_runner)
        m_runner->release(); // never ran
}

std::future<void> SlotRunner::Reservation::run(std::function<void(size_t)> work, const CancelToken &cancel)
{
    SlotRunner *runner = m_runner;
    m_runner = nullptr; // the job releases the place when it finished
    Job job{std::move(work), std::promise<void>(), cancel};
    std::future<void> done = job.done.get_future();
    {
        std::lock_guard<std::mutex> lock(runner->m_mutex);
        runner->m_queue.push_back(std::move(job));
    }
    runner->m_wake.notify_one();
    return done;
}

SlotRunner::SlotRunner(size_t slots, size_t maxWaiting) : m_capacity(std::max<size_t>(1, slots) + maxWaiting)
{
    for (size_t slot = 0; slot < std::max<size_t>(1, slots); ++slot)
        m_workers.emplace_back([this, slot] { workerLoop(slot); });
}

SlotRunner::~SlotRunner()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_stopping = true;
        m_draining = true;
        for (Job &job : m_queue)
            job.cancel.cancel();
        for (CancelToken &token : m_runningTokens)
            token.cancel();
    }
    m_wake.notify_all();
    for (std::thread &worker : m_workers)
        worker.join();
}

std::optional<SlotRunner::Reservation> SlotRunner::reserve(Refusal *why)
{
    std::lock_guard<std::mutex> lock(m_mutex);
    if (m_draining) {
        *why = Refusal::Draining;
        return std::nullopt;
    }
    if (m_inSystem >= m_capacity) {
        *why = Refusal::QueueFull;
        return std::nullopt;
    }
    ++m_inSystem;
    return Reservation(this);
}

void SlotRunner::release()
{
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        --m_inSystem;
    }
    m_idle.notify_all();
}

void SlotRunner::workerLoop(size_t slot)
{
    for (;;) {
        Job job;
        std::list<CancelToken>::iterator token;
        {
            std::unique_lock<std::mutex> lock(m_mutex);
            m_wake.wait(lock, [&] { return !m_queue.empty() || m_stopping; });
            if (m_queue.empty())
                return; // stopping, nothing left (queued jobs still run, cancelled, so their futures are set)
            job = std::move(m_queue.front());
            m_queue.pop_front();
            ++m_running;
            token = m_runningTokens.insert(m_runningTokens.end(), job.cancel);
        }
        std::exception_ptr thrown;
        try {
            job.work(slot);
        } catch (...) {
            thrown = std::current_exception();
        }
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            --m_running;
            --m_inSystem;
            m_runningTokens.erase(token);
        }
        m_idle.notify_all();
        // Only now: a client answered at once may send its next request, and must find the
        // place free.
        if (thrown)
            job.done.set_exception(thrown);
        else
            job.done.set_value();
    }
}

void SlotRunner::beginDrain()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    m_draining = true;
}

bool SlotRunner::draining() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_draining;
}

bool SlotRunner::waitIdle(std::chrono::milliseconds timeout)
{
    std::unique_lock<std::mutex> lock(m_mutex);
    return m_idle.wait_for(lock, timeout, [&] { return m_inSystem == 0; });
}

void SlotRunner::cancelAll()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    for (Job &job : m_queue)
        job.cancel.cancel();
    for (CancelToken &token : m_runningTokens)
        token.cancel();
}

size_t SlotRunner::running() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_running;
}

size_t SlotRunner::waiting() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_inSystem - m_running;
}

} // namespace awq::serve
