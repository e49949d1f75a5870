// tokenizer.json decoders: each step rewrites the list of token strings, as `tokenizers`'
// Decoder::decode_chain does; HfPipeline::decode() joins what is left.

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "hf_pipeline.h"
#include "unicode_text.h"

namespace awq {

using nlohmann::json;

namespace {

// "<0x41>" -> 0x41; -1 for anything else.
int byteFallbackValue(const std::string &piece)
{
    if (piece.size() != 6 || piece.compare(0, 3, "<0x") != 0 || piece[5] != '>')
        return -1;
    int value = 0;
    for (size_t i = 3; i < 5; ++i) {
        const char c = piece[i];
        const int digit = (c >= '0' && c <= '9') ? c - '0' : (c >= 'A' && c <= 'F') ? c - 'A' + 10 : -1;
        if (digit < 0)
            return -1;
        value = value * 16 + digit;
    }
    return value;
}

// Byte-level characters back to bytes; a token with other characters stays as it is.
std::string byteLevelToBytes(const std::string &token)
{
    std::string bytes;
    for (size_t pos = 0; pos < token.size();) {
        size_t length = 1;
        const int byte = unicode::byteLevelByte(unicode::decodeAt(token, pos, length));
        if (byte < 0)
            return token;
        bytes += static_cast<char>(byte);
        pos += length;
    }
    return bytes;
}

std::string stripToken(const std::string &token, const std::string &content, size_t start, size_t stop)
{
    size_t begin = 0, end = token.size();
    for (size_t i = 0; i < start && token.compare(begin, content.size(), content) == 0 && begin < end; ++i)
        begin += content.size();
    for (size_t i = 0; i < stop && end - begin >= content.size()
                       && token.compare(end - content.size(), content.size(), content) == 0;
         ++i)
        end -= content.size();
    return token.substr(begin, end - begin);
}

} // namespace

std::string cleanUpTokenizationSpaces(std::string text)
{
    // transformers' clean_up_tokenization, in its order.
    static const std::pair<const char *, const char *> kRules[] = {
        {" .", "."},    {" ?", "?"},     {" !", "!"},     {" ,", ","},     {" ' ", "'"},
        {" n't", "n't"}, {" 'm", "'m"}, {" 's", "'s"}, {" 've", "'ve"}, {" 're", "'re"}};
    for (const auto &[from, to] : kRules)
        hf::replaceAll(text, from, to);
    return text;
}

void parseDecoder(const json &j, const std::string &where, std::vector<DecoderStep> &out)
{
    using Kind = DecoderStep::Kind;
    const std::string type = hf::typeOf(j, where, "decoder");
    DecoderStep step;
    if (type == "Sequence") {
        for (const auto &inner : hf::listField(j, "decoders", where, "decoder"))
            parseDecoder(inner, where, out);
        return;
    } else if (type == "ByteLevel") {
    } else if (type == "Replace") {
        step.kind = Kind::Replace;
        step.pattern = hf::patternOf(j, where, "Replace");
        step.content = hf::stringField(j, "content", where, "Replace");
    } else if (type == "ByteFallback") {
        step.kind = Kind::ByteFallback;
    } else if (type == "Fuse") {
        step.kind = Kind::Fuse;
    } else if (type == "Strip") {
        step.kind = Kind::Strip;
        step.content = hf::stringField(j, "content", where, "Strip", " ");
        for (const char *key : {"start", "stop"})
            AWQ_CHECK(!j.contains(key) || j[key].is_number_unsigned(), Format, where, ": Strip.", key,
                      " must be a count");
        step.start = j.value("start", size_t{0});
        step.stop = j.value("stop", size_t{0});
    } else if (type == "Metaspace") {
        step.kind = Kind::Metaspace;
        step.content = hf::stringField(j, "replacement", where, "Metaspace", hf::kMetaspace);
        step.stripFirst = hf::prependSchemeOf(j, where) != PrependScheme::Never;
    } else if (type == "WordPiece") {
        step.kind = Kind::WordPiece;
        step.content = hf::stringField(j, "prefix", where, "WordPiece", "##");
        step.cleanup = hf::boolField(j, "cleanup", true, where, "WordPiece");
    } else {
        fail(ErrorCode::UnsupportedModel, where, ": the decoder '", type,
             "' is not supported (supported: ByteLevel, Replace, ByteFallback, Fuse, Strip, Metaspace, WordPiece, "
             "Sequence)");
    }
    out.push_back(std::move(step));
}

void applyDecoder(const DecoderStep &step, std::vector<DecodePiece> &pieces)
{
    using Kind = DecoderStep::Kind;
    switch (step.kind) {
    case Kind::ByteLevel:
        for (DecodePiece &p : pieces)
            if (!p.verbatim)
                p.text = byteLevelToBytes(p.text);
        break;
    case Kind::Replace:
        for (DecodePiece &p : pieces)
            p.text = hf::replaceMatches(*step.pattern, p.text, step.content);
        break;
    case Kind::ByteFallback: {
        std::vector<DecodePiece> out;
        bool previousWasByte = false;
        for (DecodePiece &p : pieces) {
            const int byte = p.verbatim ? -1 : byteFallbackValue(p.text);
            if (byte < 0)
                out.push_back(std::move(p));
            else if (previousWasByte)
                out.back().text += static_cast<char>(byte);
            else
                out.push_back({std::string(1, static_cast<char>(byte)), true});
            previousWasByte = byte >= 0;
        }
        pieces = std::move(out);
        break;
    }
    case Kind::Fuse: {
        DecodePiece fused;
        for (const DecodePiece &p : pieces)
            fused.text += p.text;
        pieces = {std::move(fused)};
        break;
    }
    case Kind::Strip:
        for (DecodePiece &p : pieces)
            p.text = stripToken(p.text, step.content, step.start, step.stop);
        break;
    case Kind::Metaspace:
        for (size_t i = 0; i < pieces.size(); ++i) {
            std::string &text = pieces[i].text;
            if (i == 0 && step.stripFirst && text.compare(0, step.content.size(), step.content) == 0)
                text.erase(0, step.content.size());
            hf::replaceAll(text, step.content, " ");
        }
        break;
    case Kind::WordPiece:
        // tokenizers' WordPiece decoder: a continuation drops its prefix, any other token
        // after the first gets a space; then its cleanup (which also turns " do not" into
        // " don't").
        for (size_t i = 0; i < pieces.size(); ++i) {
            std::string &text = pieces[i].text;
            if (i != 0) {
                if (text.compare(0, step.content.size(), step.content) == 0)
                    text.erase(0, step.content.size());
                else
                    text.insert(0, " ");
            }
            if (step.cleanup) {
                text = cleanUpTokenizationSpaces(std::move(text));
                hf::replaceAll(text, " do not", " don't");
            }
        }
        break;
    }
}

} // namespace awq
