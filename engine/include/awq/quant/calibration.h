#pragma once
// Calibration blocks as AutoAWQ builds them (docs/awq-format.md §1.1): records are read in order,
// stripped, tokenized with the tokenizer's default BOS; empty records and records longer
// than seqLen tokens are skipped; after nSamples accepted records the token lists are
// concatenated and cut into floor(T / seqLen) blocks of seqLen tokens (the tail is dropped).
// Only list-of-text semantics apply (no shuffling): the order of the file is kept.

#include <cstdint>
#include <string>
#include <vector>

#include <ATen/Tensor.h>

#include "awq/quant/quant_options.h"

namespace awq {

class Tokenizer;

// Records of a source, in order. Throws Error(NotFound / Format / InvalidArgument)
// naming the file (and the line for JSONL) on a problem.
std::vector<std::string> readCalibrationRecords(const CalibrationSource &source);

struct CalibrationData {
    at::Tensor blocks;            // int64 [nBlocks, seqLen]
    int64_t recordsRead = 0;      // records looked at
    int64_t recordsUsed = 0;      // accepted
    int64_t recordsSkippedLong = 0;
    int64_t recordsSkippedEmpty = 0;
    int64_t tokensUsed = 0;       // nBlocks * seqLen
    int64_t tokensDropped = 0;    // the tail that did not fill a block
    std::string digest;           // "fnv1a64:<hex>" over the block token ids
    std::string sourceDescription; // "text file /x/y.txt", "jsonl /a.jsonl field 'text'", ...

    int64_t numBlocks() const { return blocks.defined() ? blocks.size(0) : 0; }
};

// Throws Error(InvalidArgument) naming the source when the data yields zero blocks
// (with the counts that explain why, e.g. every record was longer than seqLen).
CalibrationData buildCalibration(const CalibrationOptions &options, const Tokenizer &tokenizer);

// FNV-1a 64-bit over the bytes of an int64 tensor's values, as "fnv1a64:<16 hex digits>".
std::string tokenDigest(const at::Tensor &tokens);

} // namespace awq
