// tokenizer.json pre-tokenizers. Everything that splits by a pattern (Split, ByteLevel's
// GPT-2 regex, Whitespace, WhitespaceSplit, Digits, Punctuation, BertPreTokenizer) is one
// Split step with a PCRE2 pattern (hf_regex.h) and one of `tokenizers`' five behaviours;
// the character predicates of the Rust code are written as the equivalent patterns.

#include <algorithm>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "hf_pipeline.h"
#include "unicode_text.h"

namespace awq {

using nlohmann::json;

namespace {

// Rust's char::is_ascii_punctuation || is_punctuation (general category P*), which
// Punctuation and BertPreTokenizer split on, one character at a time.
constexpr const char *kPunctuation = R"([\p{P}!-/:-@\[-`{-~])";

SplitBehavior behaviorOf(const std::string &name, const std::string &where, const char *what)
{
    if (name == "Isolated")
        return SplitBehavior::Isolated;
    if (name == "Removed")
        return SplitBehavior::Removed;
    if (name == "MergedWithPrevious")
        return SplitBehavior::MergedWithPrevious;
    if (name == "MergedWithNext")
        return SplitBehavior::MergedWithNext;
    AWQ_CHECK(name == "Contiguous", Format, where, ": ", what, ".behavior '", name,
              "' is not Isolated, Removed, MergedWithPrevious, MergedWithNext or Contiguous");
    return SplitBehavior::Contiguous;
}

PreTokenizerStep splitStep(const std::string &pattern, SplitBehavior behavior, bool invert, const std::string &where)
{
    PreTokenizerStep step;
    step.kind = PreTokenizerStep::Kind::Split;
    step.regex = std::make_shared<const HfRegex>(HfRegex::compile(pattern, where));
    step.behavior = behavior;
    step.invert = invert;
    return step;
}

// `tokenizers`' NormalizedString::split: which spans become pieces, as (begin, end) pairs.
struct Piece {
    size_t begin, end;
    bool removed;
};

std::vector<Piece> applyBehavior(std::vector<MatchSpan> spans, SplitBehavior behavior, bool invert)
{
    if (invert)
        for (MatchSpan &s : spans)
            s.isMatch = !s.isMatch;
    std::vector<Piece> out;
    out.reserve(spans.size());
    bool previousMatch = false;
    switch (behavior) {
    case SplitBehavior::Isolated:
        for (const MatchSpan &s : spans)
            out.push_back({s.begin, s.end, false});
        break;
    case SplitBehavior::Removed:
        for (const MatchSpan &s : spans)
            out.push_back({s.begin, s.end, s.isMatch});
        break;
    case SplitBehavior::MergedWithPrevious:
        for (const MatchSpan &s : spans) {
            if (s.isMatch && !previousMatch && !out.empty())
                out.back().end = s.end;
            else
                out.push_back({s.begin, s.end, false});
            previousMatch = s.isMatch;
        }
        break;
    case SplitBehavior::MergedWithNext:
        for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
            if (it->isMatch && !previousMatch && !out.empty())
                out.back().begin = it->begin;
            else
                out.push_back({it->begin, it->end, false});
            previousMatch = it->isMatch;
        }
        std::reverse(out.begin(), out.end());
        break;
    case SplitBehavior::Contiguous:
        for (const MatchSpan &s : spans) {
            if (s.isMatch == previousMatch && !out.empty())
                out.back().end = s.end;
            else
                out.push_back({s.begin, s.end, false});
            previousMatch = s.isMatch;
        }
        break;
    }
    return out;
}

void splitInto(const PreTokenizerStep &step, const std::string &piece, std::vector<std::string> &next)
{
    for (const Piece &p : applyBehavior(step.regex->findMatches(piece), step.behavior, step.invert))
        if (!p.removed && p.end > p.begin)
            next.push_back(piece.substr(p.begin, p.end - p.begin));
}

} // namespace

void parsePreTokenizer(const json &j, const std::string &where, std::vector<PreTokenizerStep> &out)
{
    const std::string type = hf::typeOf(j, where, "pre_tokenizer");
    if (type == "Sequence") {
        for (const auto &inner : hf::listField(j, "pretokenizers", where, "pre_tokenizer"))
            parsePreTokenizer(inner, where, out);
        return;
    }
    if (type == "Whitespace") { // Whitespace: keep the matches of \w+|[^\w\s]+, drop the rest
        out.push_back(splitStep(R"(\w+|[^\w\s]+)", SplitBehavior::Removed, true, where));
        return;
    }
    if (type == "WhitespaceSplit") {
        out.push_back(splitStep(R"(\s+)", SplitBehavior::Removed, false, where));
        return;
    }
    if (type == "Digits") {
        const bool individual = hf::boolField(j, "individual_digits", false, where, "Digits");
        out.push_back(splitStep(R"(\p{N})", individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous, false,
                                where));
        return;
    }
    if (type == "Punctuation") {
        const std::string behavior = hf::stringField(j, "behavior", where, "Punctuation", "Isolated");
        out.push_back(splitStep(kPunctuation, behaviorOf(behavior, where, "Punctuation"), false, where));
        return;
    }
    if (type == "BertPreTokenizer") {
        out.push_back(splitStep(R"(\s+)", SplitBehavior::Removed, false, where));
        out.push_back(splitStep(kPunctuation, SplitBehavior::Isolated, false, where));
        return;
    }
    PreTokenizerStep step;
    if (type == "ByteLevel") {
        step.addPrefixSpace = hf::boolField(j, "add_prefix_space", true, where, "ByteLevel");
        if (hf::boolField(j, "use_regex", true, where, "ByteLevel"))
            step.regex = std::make_shared<const HfRegex>(HfRegex::compile(HfRegex::kGpt2, where));
    } else if (type == "Split") {
        step.kind = PreTokenizerStep::Kind::Split;
        step.regex = hf::patternOf(j, where, "Split");
        step.behavior = behaviorOf(hf::stringField(j, "behavior", where, "Split", "Isolated"), where, "Split");
        step.invert = hf::boolField(j, "invert", false, where, "Split");
    } else if (type == "Metaspace") {
        step.kind = PreTokenizerStep::Kind::Metaspace;
        step.replacement = hf::stringField(j, "replacement", where, "Metaspace", hf::kMetaspace);
        AWQ_CHECK(!step.replacement.empty(), Format, where, ": Metaspace.replacement is empty");
        step.prepend = hf::prependSchemeOf(j, where);
        step.splitOnReplacement = hf::boolField(j, "split", true, where, "Metaspace");
    } else {
        fail(ErrorCode::UnsupportedModel, where, ": the pre-tokenizer '", type,
             "' is not supported (supported: ByteLevel, Split, Whitespace, WhitespaceSplit, Digits, Punctuation, "
             "BertPreTokenizer, Metaspace, Sequence)");
    }
    out.push_back(std::move(step));
}

std::vector<std::string> applyPreTokenizer(const PreTokenizerStep &step, const std::vector<std::string> &pieces,
                                           bool atStart)
{
    std::vector<std::string> next;
    next.reserve(pieces.size());
    for (size_t i = 0; i < pieces.size(); ++i) {
        std::string piece = pieces[i];
        if (piece.empty())
            continue;
        switch (step.kind) {
        case PreTokenizerStep::Kind::ByteLevel: {
            if (step.addPrefixSpace && piece.front() != ' ')
                piece.insert(0, " ");
            std::vector<std::string> words;
            if (step.regex)
                splitInto(step, piece, words);
            else
                words.push_back(std::move(piece));
            for (const std::string &word : words) {
                std::string mapped;
                mapped.reserve(word.size() * 2);
                for (char c : word)
                    mapped += unicode::byteLevelChar(static_cast<uint8_t>(c));
                next.push_back(std::move(mapped));
            }
            break;
        }
        case PreTokenizerStep::Kind::Split:
            splitInto(step, piece, next);
            break;
        case PreTokenizerStep::Kind::Metaspace: {
            hf::replaceAll(piece, " ", step.replacement);
            const bool prepend = step.prepend == PrependScheme::Always
                                 || (step.prepend == PrependScheme::First && atStart && i == 0);
            if (prepend && piece.compare(0, step.replacement.size(), step.replacement) != 0)
                piece.insert(0, step.replacement);
            if (!step.splitOnReplacement) {
                next.push_back(std::move(piece));
                break;
            }
            // Each replacement starts a new word ("MergedWithNext").
            size_t begin = 0;
            for (size_t hit = piece.find(step.replacement, 1); hit != std::string::npos;
                 hit = piece.find(step.replacement, hit + step.replacement.size())) {
                if (hit > begin)
                    next.push_back(piece.substr(begin, hit - begin));
                begin = hit;
            }
            next.push_back(piece.substr(begin));
            break;
        }
        }
    }
    return next;
}

} // namespace awq
