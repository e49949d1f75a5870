#pragma once
// The text-processing stages of a tokenizer.json around its model, as `tokenizers`
// defines them:
//  - normalizer (hf_normalizers.cpp, through utf8proc): NFC, NFD, NFKC, NFKD, Lowercase,
//    Strip, StripAccents, Replace (String or Regex), Prepend, BertNormalizer, Precompiled
//    (sentencepiece's charsmap, hf_precompiled.h), Sequence;
//  - pre-tokenizer (hf_pre_tokenizers.cpp, patterns through PCRE2, see hf_regex.h):
//    ByteLevel, Split (every behaviour, invert), Whitespace, WhitespaceSplit, Digits,
//    Punctuation, BertPreTokenizer, Metaspace, Sequence;
//  - decoder (hf_decoders.cpp): ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace,
//    WordPiece, Sequence.
// Other types throw Error(UnsupportedModel) naming the file and the type.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "hf_precompiled.h"
#include "hf_regex.h"

namespace awq {

struct NormalizerStep {
    enum class Kind { Prepend, Replace, Nfc, Nfd, Nfkc, Nfkd, Lowercase, Strip, StripAccents, Bert, Precompiled } kind;
    std::string content;                 // Replace: the replacement; Prepend: the prefix
    std::shared_ptr<const HfRegex> pattern; // Replace
    bool left = true, right = true;      // Strip
    // BertNormalizer: clean_text, handle_chinese_chars, strip_accents, lowercase.
    bool cleanText = true, chineseChars = true, stripAccents = true, lowercase = true;
    std::shared_ptr<const PrecompiledCharsMap> charsmap{}; // Precompiled
};

enum class PrependScheme { Always, First, Never };

// What Split does with the matches (`tokenizers`' SplitDelimiterBehavior).
enum class SplitBehavior { Isolated, Removed, MergedWithPrevious, MergedWithNext, Contiguous };

struct PreTokenizerStep {
    enum class Kind { ByteLevel, Split, Metaspace } kind = Kind::ByteLevel;
    bool addPrefixSpace = false;         // ByteLevel
    std::shared_ptr<const HfRegex> regex; // Split (or ByteLevel's GPT-2 pattern when use_regex)
    SplitBehavior behavior = SplitBehavior::Isolated;
    bool invert = false;
    std::string replacement;             // Metaspace
    PrependScheme prepend = PrependScheme::Always;
    bool splitOnReplacement = true;      // Metaspace
};

struct DecoderStep {
    enum class Kind { ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, WordPiece } kind = Kind::ByteLevel;
    std::string content;                 // Replace's replacement, Strip's and Metaspace's character, WordPiece's prefix
    std::shared_ptr<const HfRegex> pattern; // Replace
    size_t start = 0, stop = 0;          // Strip
    bool stripFirst = true;              // Metaspace: the first token's leading replacement goes
    bool cleanup = true;                 // WordPiece
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
    // Splits a normalized segment into the words the model sees. `atStart`: the segment
    // begins the input text (Metaspace's "first" prepend scheme).
    std::vector<std::string> preTokenize(const std::string &text, bool atStart) const;
    // Returns raw bytes: the caller repairs invalid UTF-8.
    std::string decode(std::vector<DecodePiece> pieces) const;

private:
    std::vector<NormalizerStep> m_normalizers;
    std::vector<PreTokenizerStep> m_preTokenizers;
    std::vector<DecoderStep> m_decoders;
};

// The parts of the pipeline, each in its own file; `where` names the file for errors.
void parseNormalizer(const nlohmann::json &j, const std::string &where, std::vector<NormalizerStep> &out);
void parsePreTokenizer(const nlohmann::json &j, const std::string &where, std::vector<PreTokenizerStep> &out);
void parseDecoder(const nlohmann::json &j, const std::string &where, std::vector<DecoderStep> &out);
std::string applyNormalizer(const NormalizerStep &step, std::string text);
// One pre-tokenizer step over the pieces so far; `atStart` as in preTokenize().
std::vector<std::string> applyPreTokenizer(const PreTokenizerStep &step, const std::vector<std::string> &pieces,
                                           bool atStart);
void applyDecoder(const DecoderStep &step, std::vector<DecodePiece> &pieces);
// transformers' clean_up_tokenization (" ." -> ".", " n't" -> "n't", ...), which decode()
// applies when tokenizer_config.json sets clean_up_tokenization_spaces.
std::string cleanUpTokenizationSpaces(std::string text);

// Small readers of the JSON fields the stages share (hf_pipeline.cpp).
namespace hf {
std::string typeOf(const nlohmann::json &j, const std::string &where, const char *what);
std::string stringField(const nlohmann::json &j, const char *key, const std::string &where, const char *what,
                        const std::string &fallback = {});
bool boolField(const nlohmann::json &j, const char *key, bool fallback, const std::string &where, const char *what);
const nlohmann::json &listField(const nlohmann::json &j, const char *key, const std::string &where, const char *what);
// {"String": "x"} or {"Regex": "..."} as a compiled pattern.
std::shared_ptr<const HfRegex> patternOf(const nlohmann::json &j, const std::string &where, const char *what);
PrependScheme prependSchemeOf(const nlohmann::json &j, const std::string &where);
void replaceAll(std::string &text, const std::string &from, const std::string &to);
// Every match of `pattern` (empty ones included) replaced by `content`.
std::string replaceMatches(const HfRegex &pattern, const std::string &text, const std::string &content);
constexpr const char *kMetaspace = "\xE2\x96\x81"; // U+2581, sentencepiece's space
} // namespace hf

} // namespace awq
