#pragma once
// The text-processing stages of a tokenizer.json around its BPE model, as `tokenizers`
// defines them: normalizer (Prepend, Replace with a string pattern, NFC, Sequence),
// pre-tokenizer (ByteLevel, Split with the patterns of split_pattern.h, Metaspace,
// Sequence) and decoder (ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace,
// Sequence). Other types throw Error(UnsupportedModel) naming the file.
//
// NFC is accepted but not applied: the text must already be in NFC (what keyboards and
// nearly all stored text produce); decomposed accents then tokenize differently from
// `tokenizers`, though they still round-trip through decode().

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "split_pattern.h"

namespace awq {

struct NormalizerStep {
    enum class Kind { Prepend, Replace, Nfc } kind;
    std::string pattern, content; // Replace: pattern -> content; Prepend: content
};

enum class PrependScheme { Always, First, Never };

struct PreTokenizerStep {
    enum class Kind { ByteLevel, Split, Metaspace } kind = Kind::ByteLevel;
    bool addPrefixSpace = false;        // ByteLevel
    bool useRegex = true;               // ByteLevel: split with GPT-2's pattern first
    std::optional<SplitPattern> regex;  // Split with a Regex pattern (or ByteLevel's)
    std::string literal;                // Split with a String pattern
    std::string replacement;            // Metaspace
    PrependScheme prepend = PrependScheme::Always;
    bool splitOnReplacement = true;     // Metaspace
};

struct DecoderStep {
    enum class Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace } kind = Kind::ByteLevel;
    std::string pattern, content;       // Replace; Strip and Metaspace use content
    size_t start = 0, stop = 0;         // Strip
    bool stripFirst = true;             // Metaspace: the first token's leading replacement goes
};

// A token on its way through the decoder. Added tokens are `verbatim`: their content is
// text, not byte-level characters or <0xNN> pieces.
struct DecodePiece {
    std::string text;
    bool verbatim = false;
};

class HfPipeline
{
public:
    // Reads the "normalizer", "pre_tokenizer" and "decoder" of `root` (each may be null).
    HfPipeline(const nlohmann::json &root, const std::string &where);

    std::string normalize(std::string text) const;
    // Splits a normalized segment into the words BPE sees. `atStart`: the segment begins
    // the input text (Metaspace's "first" prepend scheme).
    std::vector<std::string> preTokenize(const std::string &text, bool atStart) const;
    // Returns raw bytes: the caller repairs invalid UTF-8.
    std::string decode(std::vector<DecodePiece> pieces) const;

private:
    std::vector<NormalizerStep> m_normalizers;
    std::vector<PreTokenizerStep> m_preTokenizers;
    std::vector<DecoderStep> m_decoders;
};

} // namespace awq
