// libFuzzer: tokenizer.json (BPE, WordPiece, Unigram; normalizers, PCRE2 pre-tokenizer
// patterns, decoders) as HfBpeBackend reads it; an accepted tokenizer then encodes a few
// fixed texts, and what it encodes must decode without error and stay within its
// vocabulary. A pattern that hits the PCRE2 match limit throws awq::Error: not a finding.
#include <cstdlib>

#include "awq/core/error.h"
#include "fuzz_input_file.h"
#include "tokenizer/hf_bpe_backend.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const FuzzInputFile input(data, size, "tokenizer.json");
    try {
        const awq::HfBpeBackend tokenizer(input.path());
        for (const char *text : {"hello the world", " <|eot_id|>the cat's 123 caf\xc3\xa9\n\n", "\xe2\x96\x81\xff",
                                 "Cafe\xcc\x81\xc2\xa0\xe3\x80\x80" "DON'T \xe6\x97\xa5\xe6\x9c\xac 1234567 \xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"}) {
            const std::vector<int32_t> ids = tokenizer.encode(text);
            for (int32_t id : ids)
                if (id < 0 || id >= tokenizer.vocabSize())
                    std::abort(); // an id outside the vocabulary: a finding
            (void)tokenizer.decode(ids);
        }
    } catch (const awq::Error &) {
    }
    return 0;
}
