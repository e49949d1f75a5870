#pragma once
// Progress reports from long engine jobs. The callback runs on the worker thread
// that runs the job; it must be cheap (the UI throttles what it forwards).

#include <cstdint>
#include <functional>
#include <string>

namespace awq {

struct Progress {
    std::string stage;  // "load", "perplexity", "quantize", ...
    int64_t done = 0;
    int64_t total = 0;
    std::string note;   // e.g. "layer 3/22: scale search"
};

using ProgressFn = std::function<void(const Progress &)>;

} // namespace awq
