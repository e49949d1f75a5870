#pragma once
// Turns a growing list of token ids into text deltas that are always whole UTF-8
// characters: a character split across byte-fallback tokens is held back until
// its last byte arrives (sentencepiece shows it as U+FFFD until then). Stop strings are matched on the text, and text that could
// still become a stop string is held back too.

#include <cstdint>
#include <string>
#include <vector>

namespace awq {

class Tokenizer;

// Length of the longest prefix of `text` that ends on a complete UTF-8 character.
size_t completeUtf8Prefix(const std::string &text);

class TextStream
{
public:
    // contextToken: the last prompt token (or -1). sentencepiece drops the space that starts
    // the first piece of a decode, so the continuation is decoded after this token and the
    // token's own text removed: "The city council" + "▁of" streams " of", not "of".
    TextStream(const Tokenizer &tokenizer, std::vector<std::string> stopStrings, int32_t contextToken = -1);

    // Adds a token; returns the text that can be shown now (maybe empty).
    std::string push(int32_t token);
    // True once a stop string appeared; the text before it has been emitted.
    bool stopped() const { return m_stopped; }
    // Returns whatever was held back (at the end of generation).
    std::string flush();
    const std::string &text() const { return m_emitted; } // everything emitted so far

private:
    std::string release(const std::string &full, bool final);
    std::string decodeContinuation() const;
    const Tokenizer &m_tokenizer;
    std::vector<std::string> m_stops;
    std::vector<int32_t> m_ids;
    std::vector<int32_t> m_context;
    std::string m_contextText;
    std::string m_emitted;
    bool m_stopped = false;
};

} // namespace awq
