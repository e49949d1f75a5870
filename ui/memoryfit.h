#pragma once
// Whether a model fits before it is loaded, as the Library and the Chat page show it: the
// memory estimate (awq/model/memory_estimate.h, an upper bound) against the memory free
// now on the CPU and on each GPU. GUI thread only (queries take milliseconds).

#include <vector>

#include <QString>

#include "awq/model/config.h"

namespace memoryfit {

enum class Verdict { Fits, Tight, DoesNotFit, Unknown };

struct Line {
    QString device; // "CPU", "GPU 0 (NVIDIA H100)"
    quint64 needBytes = 0;
    quint64 freeBytes = 0;
    Verdict verdict = Verdict::Unknown;
};

// Fits: the need is at most 80 % of what is free; tight: at most all of it.
Verdict verdictFor(quint64 needBytes, quint64 freeBytes);
// One line for the CPU and one per GPU, for running `config` with a KV cache of `context`
// tokens (0: min(2048, max_position_embeddings)).
std::vector<Line> estimate(const awq::ModelConfig &config, qint64 context = 0);
// "CPU: fits (needs about 1.2 GiB of 20.1 GiB free) · GPU 0: ..." as rich text, the verdicts
// toned (Theme::toned): show it with Theme::setTonedText.
QString describe(const std::vector<Line> &lines);

} // namespace memoryfit
