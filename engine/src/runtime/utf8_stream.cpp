#include "awq/runtime/utf8_stream.h"

#include <algorithm>

#include "awq/tokenizer/tokenizer.h"

namespace awq {

size_t completeUtf8Prefix(const std::string &text)
{
    // Walk back over at most 3 continuation bytes to the lead byte of the last character.
    const size_t n = text.size();
    size_t i = n;
    int continuation = 0;
    while (i > 0 && continuation < 4) {
        const auto byte = static_cast<unsigned char>(text[i - 1]);
        if ((byte & 0xC0) != 0x80)
            break;
        --i;
        ++continuation;
    }
    if (i == 0)
        return continuation == 0 ? n : 0;
    const auto lead = static_cast<unsigned char>(text[i - 1]);
    int expected = 0;
    if (lead < 0x80)
        expected = 0;
    else if ((lead & 0xE0) == 0xC0)
        expected = 1;
    else if ((lead & 0xF0) == 0xE0)
        expected = 2;
    else if ((lead & 0xF8) == 0xF0)
        expected = 3;
    else
        return n; // invalid lead byte: nothing to wait for
    return continuation >= expected ? n : i - 1;
}

TextStream::TextStream(const Tokenizer &tokenizer, std::vector<std::string> stopStrings, int32_t contextToken)
    : m_tokenizer(tokenizer), m_stops(std::move(stopStrings))
{
    m_stops.erase(std::remove(m_stops.begin(), m_stops.end(), std::string()), m_stops.end());
    if (contextToken >= 0 && contextToken != tokenizer.bosId()) {
        m_context = {contextToken};
        m_contextText = tokenizer.decode(m_context);
    }
}

std::string TextStream::decodeContinuation() const
{
    if (m_context.empty())
        return m_tokenizer.decode(m_ids);
    std::vector<int32_t> ids = m_context;
    ids.insert(ids.end(), m_ids.begin(), m_ids.end());
    const std::string full = m_tokenizer.decode(ids);
    if (full.compare(0, m_contextText.size(), m_contextText) == 0)
        return full.substr(m_contextText.size());
    return m_tokenizer.decode(m_ids);
}

std::string TextStream::push(int32_t token)
{
    if (m_stopped)
        return {};
    m_ids.push_back(token);
    return release(decodeContinuation(), false);
}

std::string TextStream::flush()
{
    if (m_stopped)
        return {};
    return release(decodeContinuation(), true);
}

std::string TextStream::release(const std::string &full, bool final)
{
    // Decoding a longer id list only extends the text, given the hold-backs below; if it
    // ever rewrote what was shown, what was shown stays and the rest waits for the end.
    if (full.size() < m_emitted.size() || full.compare(0, m_emitted.size(), m_emitted) != 0)
        return {};
    std::string pending = full.substr(m_emitted.size());
    // A stop string anywhere in the not-yet-shown text (it may start inside text held back before).
    size_t stopAt = std::string::npos;
    for (const auto &stop : m_stops) {
        const size_t searchFrom = m_emitted.size() >= stop.size() ? m_emitted.size() - stop.size() + 1 : 0;
        const size_t pos = full.find(stop, searchFrom);
        if (pos != std::string::npos && pos >= m_emitted.size() && pos < stopAt)
            stopAt = pos;
    }
    if (stopAt != std::string::npos) {
        m_stopped = true;
        std::string out = full.substr(m_emitted.size(), stopAt - m_emitted.size());
        m_emitted += out;
        return out;
    }
    size_t ready = final ? pending.size() : completeUtf8Prefix(pending);
    if (!final) {
        // sentencepiece decodes an incomplete byte-fallback sequence to U+FFFD; the next
        // token may complete it, so trailing replacement characters wait.
        static const std::string kReplacement = "\xEF\xBF\xBD";
        while (ready >= kReplacement.size()
               && pending.compare(ready - kReplacement.size(), kReplacement.size(), kReplacement) == 0)
            ready -= kReplacement.size();
    }
    if (!final) {
        // Hold back a tail that is a prefix of some stop string.
        size_t hold = 0;
        for (const auto &stop : m_stops)
            for (size_t len = std::min(stop.size() - 1, pending.size()); len > hold; --len)
                if (pending.compare(pending.size() - len, len, stop, 0, len) == 0) {
                    hold = len;
                    break;
                }
        ready = std::min(ready, pending.size() - hold);
    }
    std::string out = pending.substr(0, ready);
    m_emitted += out;
    return out;
}

} // namespace awq
