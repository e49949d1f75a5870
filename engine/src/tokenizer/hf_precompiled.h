#pragma once
// The "Precompiled" normalizer of tokenizer.json: sentencepiece's compiled normalization
// rules ("precompiled_charsmap", base64), which T5, ALBERT, XLNet, XLM-R, mBART and other
// sentencepiece-converted tokenizers carry. The blob is a little-endian u32 giving the
// byte size of a double-array trie (Darts-clone units), the trie, then a pool of
// NUL-terminated replacement strings that the trie's values point into.
//
// Applied as `tokenizers` applies it (its Precompiled normalizer): text is cut into
// extended grapheme clusters (utf8proc); a cluster shorter than 6 bytes whose bytes start
// with a key of the trie is replaced whole by that key's string (the shortest key, the
// trie's first match); otherwise each character with a key is replaced by its string and
// the others are kept. Bytes that are not UTF-8 are kept as they are.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace awq {

class PrecompiledCharsMap
{
public:
    // `base64`: the tokenizer.json field. Throws Error(Format) naming `where` when it is
    // not base64 or not a charsmap (sizes that do not add up).
    PrecompiledCharsMap(const std::string &base64, const std::string &where);

    // The string of the shortest key that `text` starts with, or nullopt. Throws
    // Error(Format) naming the file when the trie points outside the blob.
    std::optional<std::string_view> transform(std::string_view text) const;
    std::string normalize(const std::string &text) const;

    bool empty() const { return m_units.empty(); }

private:
    std::vector<uint32_t> m_units;
    std::string m_pool;
    std::string m_where;
};

// Standard base64 (RFC 4648, padding optional); nullopt for anything else.
std::optional<std::string> decodeBase64(std::string_view text);

} // namespace awq
