// The stages around a tokenizer.json's model, one at a time: normalizers (utf8proc),
// pre-tokenizers and their patterns (PCRE2, Oniguruma syntax translated), decoders and
// clean_up_tokenization_spaces. Each check builds a tokenizer.json whose vocabulary holds
// exactly the pieces a stage should produce (with ignore_merges, a word in the vocabulary
// is one token), so a different split or normalization shows up as other tokens.
// Expected values come from `tokenizers`' own tests and documentation where they have one
// (named at the check), else from Unicode / Python semantics stated beside them.

#include <QtTest>

#include <chrono>
#include <fstream>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "awq/tokenizer/tokenizer.h"
#include "fixture_model.h"

using namespace awq;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

// Every character of `text` (so that an unexpected split still gives tokens) and every
// expected piece, ids from 1; 0 is <unk>.
json vocabularyFor(const std::vector<std::string> &texts, const std::vector<std::string> &pieces)
{
    json vocab = {{"<unk>", 0}};
    int next = 1;
    auto add = [&](const std::string &piece) {
        if (!piece.empty() && !vocab.contains(piece))
            vocab[piece] = next++;
    };
    for (const std::string &text : texts)
        for (size_t pos = 0; pos < text.size();) {
            size_t length = 1;
            const auto b = static_cast<unsigned char>(text[pos]);
            length = b < 0x80 ? 1 : b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : 2;
            add(text.substr(pos, length));
            pos += length;
        }
    for (const std::string &piece : pieces)
        add(piece);
    return vocab;
}

json tokenizerJson(const json &normalizer, const json &preTokenizer, const json &vocab, const json &decoder = nullptr)
{
    return {{"version", "1.0"},
            {"added_tokens", json::array()},
            {"normalizer", normalizer},
            {"pre_tokenizer", preTokenizer},
            {"post_processor", nullptr},
            {"decoder", decoder},
            {"model",
             {{"type", "BPE"}, {"unk_token", "<unk>"}, {"fuse_unk", false}, {"byte_fallback", false},
              {"ignore_merges", true}, {"vocab", vocab}, {"merges", json::array()}}}};
}

std::unique_ptr<Tokenizer> load(const std::string &tag, const json &root)
{
    const fs::path dir = awq::test::makeTempDir(tag);
    std::ofstream(dir / "tokenizer.json") << root.dump();
    return Tokenizer::load(dir);
}

std::vector<std::string> piecesOf(const Tokenizer &t, const std::string &text)
{
    std::vector<std::string> pieces;
    for (int32_t id : t.encode(text, false))
        pieces.push_back(t.idToPiece(id));
    return pieces;
}

std::string joined(const std::vector<std::string> &pieces)
{
    std::string out;
    for (const auto &p : pieces)
        out += "[" + p + "]";
    return out;
}

// The pieces `text` becomes through `normalizer` and `preTokenizer`.
void expectPieces(const json &normalizer, const json &preTokenizer, const std::string &text,
                  const std::vector<std::string> &expected)
{
    auto t = load("tokpipe", tokenizerJson(normalizer, preTokenizer, vocabularyFor({text}, expected)));
    const auto got = piecesOf(*t, text);
    QVERIFY2(got == expected, (text + " -> " + joined(got) + ", expected " + joined(expected)).c_str());
}

json split(const json &pattern, const std::string &behavior, bool invert = false)
{
    return {{"type", "Split"}, {"pattern", pattern}, {"behavior", behavior}, {"invert", invert}};
}

json regex(const std::string &pattern)
{
    return {{"Regex", pattern}};
}

void expectError(const json &root, ErrorCode code, const std::string &part)
{
    const fs::path dir = awq::test::makeTempDir("tokpipe-error");
    std::ofstream(dir / "tokenizer.json") << root.dump();
    try {
        Tokenizer::load(dir);
        QFAIL(("expected an error mentioning " + part).c_str());
    } catch (const awq::Error &e) {
        QVERIFY2(e.code() == code, e.what());
        QVERIFY2(std::string(e.what()).find((dir / "tokenizer.json").string()) != std::string::npos, e.what());
        QVERIFY2(std::string(e.what()).find(part) != std::string::npos, e.what());
    }
}

} // namespace

class TestTokenizerPipeline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void splitBehaviours()
    {
        // tokenizers' SplitDelimiterBehavior documentation, "the-final--countdown" split on '-'.
        const std::string text = "the-final--countdown";
        const json dash = {{"String", "-"}};
        expectPieces(nullptr, split(dash, "Removed"), text, {"the", "final", "countdown"});
        expectPieces(nullptr, split(dash, "Isolated"), text, {"the", "-", "final", "-", "-", "countdown"});
        expectPieces(nullptr, split(dash, "MergedWithPrevious"), text, {"the-", "final-", "-", "countdown"});
        expectPieces(nullptr, split(dash, "MergedWithNext"), text, {"the", "-final", "-", "-countdown"});
        expectPieces(nullptr, split(dash, "Contiguous"), text, {"the", "-", "final", "--", "countdown"});
        // invert: the pattern names what to keep (tokenizers' split.rs "invert" test).
        expectPieces(nullptr, split(regex(R"(\w+|[^\w\s]+)"), "Removed", true), "Hey friend!     How are you?!?",
                     {"Hey", "friend", "!", "How", "are", "you", "?!?"});
        expectPieces(nullptr, split(regex(R"(\s+)"), "MergedWithPrevious", true), "a  b c",
                     {"a", "  b", " c"}); // inverted: the words are the matches, merged into the spaces before them
    }

    void namedPreTokenizers()
    {
        // Expected splits from tokenizers' tests of each pre-tokenizer.
        const std::string hey = "Hey friend!     How are you?!?";
        expectPieces(nullptr, {{"type", "Whitespace"}}, hey, {"Hey", "friend", "!", "How", "are", "you", "?!?"});
        expectPieces(nullptr, {{"type", "WhitespaceSplit"}}, "Hey man!", {"Hey", "man!"});
        expectPieces(nullptr, {{"type", "BertPreTokenizer"}}, hey,
                     {"Hey", "friend", "!", "How", "are", "you", "?", "!", "?"});
        expectPieces(nullptr, {{"type", "Punctuation"}}, hey, {"Hey friend", "!", "     How are you", "?", "!", "?"});
        expectPieces(nullptr, {{"type", "Digits"}, {"individual_digits", true}}, "Hey 123 friend!",
                     {"Hey ", "1", "2", "3", " friend!"});
        expectPieces(nullptr, {{"type", "Digits"}, {"individual_digits", false}}, "Hey 123 friend!",
                     {"Hey ", "123", " friend!"});
        // Unicode: U+3000 is whitespace, '。' and '«' are punctuation, '٣' (Arabic-Indic three) a digit.
        expectPieces(nullptr, {{"type", "WhitespaceSplit"}}, "a\xE3\x80\x80" "b\xC2\xA0" "c", {"a", "b", "c"});
        expectPieces(nullptr, {{"type", "BertPreTokenizer"}}, "\xC2\xAB" "x\xE3\x80\x82",
                     {"\xC2\xAB", "x", "\xE3\x80\x82"});
        expectPieces(nullptr, {{"type", "Digits"}, {"individual_digits", true}}, "a\xD9\xA3" "b",
                     {"a", "\xD9\xA3", "b"});
        // A Sequence applies its steps in turn.
        expectPieces(nullptr,
                     {{"type", "Sequence"},
                      {"pretokenizers", {{{"type", "WhitespaceSplit"}}, {{"type", "Digits"}, {"individual_digits", true}}}}},
                     "ab12 c3", {"ab", "1", "2", "c", "3"});
    }

    void metaspacePrependSchemes()
    {
        const std::string m = "\xE2\x96\x81";
        json meta = {{"type", "Metaspace"}, {"replacement", m}, {"prepend_scheme", "always"}, {"split", true}};
        expectPieces(nullptr, meta, "Hey  friend", {m + "Hey", m, m + "friend"});
        meta["split"] = false;
        expectPieces(nullptr, meta, "Hey friend", {m + "Hey" + m + "friend"});
        meta["prepend_scheme"] = "never";
        expectPieces(nullptr, meta, "Hey friend", {"Hey" + m + "friend"});
    }

    void normalizationForms()
    {
        // "cafe" + U+0301 is "café" in NFC (U+00E9); ligature U+FB01 and circled one are
        // compatibility characters ("fi", "1"); NFD splits U+00E9 into e + U+0301.
        const std::string decomposed = "cafe\xCC\x81", composed = "caf\xC3\xA9";
        expectPieces({{"type", "NFC"}}, nullptr, decomposed, {composed});
        expectPieces(nullptr, nullptr, decomposed, {"c", "a", "f", "e", "\xCC\x81"}); // without: not composed
        expectPieces({{"type", "NFD"}}, nullptr, composed, {decomposed});
        expectPieces({{"type", "NFKC"}}, nullptr, "\xEF\xAC\x81" "x\xE2\x91\xA0" "caf\xC3\xA9", {"fix1" + composed});
        expectPieces({{"type", "NFKD"}}, nullptr, "\xEF\xAC\x81" "caf\xC3\xA9", {"fi" + decomposed});
        // Hangul: NFD decomposes the syllable U+D55C into its three jamo.
        expectPieces({{"type", "NFD"}}, nullptr, "\xED\x95\x9C", {"\xE1\x84\x92\xE1\x85\xA1\xE1\x86\xAB"});
        // Invalid UTF-8 passes through untouched around a normalized run.
        // (the byte is no piece: <unk>).
        auto t = load("tokpipe-invalid", tokenizerJson({{"type", "NFC"}}, nullptr, vocabularyFor({composed}, {})));
        QCOMPARE(piecesOf(*t, decomposed + "\xFF"), (std::vector<std::string>{"c", "a", "f", "\xC3\xA9", "<unk>"}));
    }

    void otherNormalizers()
    {
        // Lowercase is Rust's char::to_lowercase per character: no final-sigma rule, and
        // U+0130 (İ) becomes "i" + U+0307.
        expectPieces({{"type", "Lowercase"}}, nullptr, "\xC4\xB0STANBUL \xCE\xA3\xCE\x91\xCE\xA3",
                     {"i\xCC\x87stanbul \xCF\x83\xCE\xB1\xCF\x83"});
        expectPieces({{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}}, nullptr,
                     " \xE3\x80\x80hi there\xC2\xA0\n", {"hi there"});
        expectPieces({{"type", "Strip"}, {"strip_left", false}, {"strip_right", true}}, nullptr, "  hi  ", {"  hi"});
        expectPieces({{"type", "Replace"}, {"pattern", regex(" {2,}")}, {"content", " "}}, nullptr, "a   b  c",
                     {"a b c"});
        expectPieces({{"type", "Replace"}, {"pattern", {{"String", "ab"}}}, {"content", "X"}}, nullptr, "abcab",
                     {"XcX"});
        expectPieces({{"type", "Prepend"}, {"prepend", "\xE2\x96\x81"}}, nullptr, "hi", {"\xE2\x96\x81hi"});
        // BERT-style: NFD, strip the accents (marks), lowercase.
        expectPieces({{"type", "Sequence"},
                      {"normalizers", {{{"type", "NFD"}}, {{"type", "StripAccents"}}, {{"type", "Lowercase"}}}}},
                     nullptr, "Caf\xC3\xA9 \xC3\x85ngstr\xC3\xB6m", {"cafe angstrom"});
    }

    void onigurumaConstructsAreTranslated()
    {
        // \h is a hexadecimal digit in Oniguruma (horizontal space in PCRE2).
        expectPieces(nullptr, split(regex(R"(\h+)"), "Isolated"), "xyz0fF9q", {"xyz", "0fF9", "q"});
        // \w includes combining marks in Oniguruma: "é" spelled e + U+0301 stays one word.
        expectPieces(nullptr, split(regex(R"(\w+)"), "Removed", true), "e\xCC\x81t\xC3\xA9 x", {"e\xCC\x81t\xC3\xA9", "x"});
        // \s is White_Space: U+180E (Mongolian vowel separator) is not, U+3000 is.
        expectPieces(nullptr, split(regex(R"(\s+)"), "Removed"), "a\xE1\xA0\x8E" "b\xE3\x80\x80" "c",
                     {"a\xE1\xA0\x8E" "b", "c"});
        // \uHHHH is a code point in Oniguruma (PCRE2 wants \x{HHHH}).
        expectPieces(nullptr, split(regex(R"(\u00e9+)"), "Isolated"), "caf\xC3\xA9\xC3\xA9s", {"caf", "\xC3\xA9\xC3\xA9", "s"});
        // Ruby's (?m) lets '.' match a newline; '^' always matches at a line start.
        expectPieces(nullptr, split(regex("(?m:a.b)"), "Isolated"), "xa\nby", {"x", "a\nb", "y"});
        expectPieces(nullptr, split(regex("^x"), "Isolated"), "xa\nxb", {"x", "a\n", "x", "b"});
        // Case-insensitive groups, lookahead, Unicode properties as o200k and Gemma-era patterns use them.
        expectPieces(nullptr, split(regex(R"((?i:'s|'t)|\p{Lu}\p{Ll}+|\s+(?!\S))"), "Isolated"), "It'S  Caf\xC3\xA9",
                     {"It", "'S", " ", " ", "Caf\xC3\xA9"});
    }

    void unsupportedOrInvalidPatterns()
    {
        const json vocab = vocabularyFor({"ab"}, {});
        expectError(tokenizerJson(nullptr, split(regex("a(?~b)c"), "Isolated"), vocab), ErrorCode::UnsupportedModel,
                    "absent operator");
        expectError(tokenizerJson(nullptr, split(regex("[a-z&&[^aeiou]]"), "Isolated"), vocab),
                    ErrorCode::UnsupportedModel, "intersection");
        expectError(tokenizerJson(nullptr, split(regex("(ab"), "Isolated"), vocab), ErrorCode::Format,
                    "'(ab' is not a regular expression");
        expectError(tokenizerJson(nullptr, split(regex("a"), "Sideways"), vocab), ErrorCode::Format,
                    "behavior 'Sideways'");
        expectError(tokenizerJson(nullptr, {{"type", "UnicodeScripts"}}, vocab), ErrorCode::UnsupportedModel,
                    "pre-tokenizer 'UnicodeScripts'");
        expectError(tokenizerJson(nullptr, nullptr, vocab, {{"type", "CTC"}}), ErrorCode::UnsupportedModel,
                    "decoder 'CTC'");
    }

    // A charsmap sentencepiece compiled (tests/data/tokenizer_json/precompiled_charsmap.json,
    // scripts/quality/make_precompiled_fixture.py): each text normalizes as sentencepiece's
    // spm_normalize does, or, where the fixture says so, as tokenizers' grapheme rule does.
    void precompiledCharsmapMatchesSentencepiece()
    {
        std::ifstream in(std::string(AWQ_SOURCE_DIR) + "/tests/data/tokenizer_json/precompiled_charsmap.json");
        QVERIFY(in);
        const json fixture = json::parse(in);
        const json normalizer = {{"type", "Precompiled"}, {"precompiled_charsmap", fixture.at("precompiled_charsmap")}};
        int checked = 0, differentFromSentencepiece = 0;
        for (const json &c : fixture.at("cases")) {
            const std::string text = c.at("text").get<std::string>();
            const std::string expected = c.value("tokenizers", c.at("sentencepiece").get<std::string>());
            differentFromSentencepiece += c.contains("tokenizers");
            auto t = load("tokpipe-precompiled", tokenizerJson(normalizer, nullptr, vocabularyFor({text, expected}, {expected})));
            const auto got = piecesOf(*t, text);
            const std::vector<std::string> wanted = expected.empty() ? std::vector<std::string>{}
                                                                      : std::vector<std::string>{expected};
            QVERIFY2(got == wanted, (text + " -> " + joined(got) + ", expected [" + expected + "]").c_str());
            ++checked;
        }
        QVERIFY(checked >= 12);
        QVERIFY(differentFromSentencepiece >= 3);
    }

    void badCharsmapsAreRefused()
    {
        const json vocab = vocabularyFor({"ab"}, {});
        auto charsmap = [](const std::string &base64) {
            return json{{"type", "Precompiled"}, {"precompiled_charsmap", base64}};
        };
        expectError(tokenizerJson(charsmap("AAAA"), nullptr, vocab), ErrorCode::Format, "3 bytes, too short");
        expectError(tokenizerJson(charsmap("not base64!"), nullptr, vocab), ErrorCode::Format, "not base64");
        // A trie of 64 bytes declared in a blob of 8.
        expectError(tokenizerJson(charsmap("QAAAAAAAAAA="), nullptr, vocab), ErrorCode::Format, "declares a trie of 64");
        expectError(tokenizerJson({{"type", "Precompiled"}}, nullptr, vocab), ErrorCode::Format, "precompiled_charsmap");
        // One unit whose offset sends the search past the trie: refused when used, not read out of bounds.
        auto t = load("tokpipe-precompiled-corrupt", tokenizerJson(charsmap("BAAAAAD8//8="), nullptr, vocab));
        try {
            t->encode("ab", false);
            QFAIL("a corrupt trie was used");
        } catch (const awq::Error &e) {
            QVERIFY2(std::string(e.what()).find("corrupt") != std::string::npos, e.what());
        }
        // An empty charsmap is sentencepiece's identity normalization.
        auto identity = load("tokpipe-precompiled-empty", tokenizerJson(charsmap(""), nullptr, vocabularyFor({"ab"}, {"ab"})));
        QCOMPARE(piecesOf(*identity, "ab"), std::vector<std::string>{"ab"});
    }

    void catastrophicBacktrackingIsBounded()
    {
        // (x+x+)+y on a run of x's without a y after it backtracks exponentially; the match
        // limit stops it with an error naming the file and the pattern.
        const std::string text = std::string(40, 'x') + "z y";
        auto t = load("tokpipe-hostile",
                      tokenizerJson(nullptr, split(regex("(x+x+)+y"), "Isolated"), vocabularyFor({text}, {})));
        const auto start = std::chrono::steady_clock::now();
        try {
            t->encode(text, false);
            QFAIL("expected the match limit to stop the pattern");
        } catch (const awq::Error &e) {
            QVERIFY2(std::string(e.what()).find("(x+x+)+y") != std::string::npos, e.what());
            QVERIFY2(std::string(e.what()).find("backtracking") != std::string::npos, e.what());
        }
        QVERIFY(std::chrono::steady_clock::now() - start < std::chrono::seconds(20));
        // The same tokenizer still encodes ordinary text.
        QCOMPARE(piecesOf(*t, "xxy"), (std::vector<std::string>{"x", "x", "y"}));
    }

    void wordPieceModel()
    {
        // BERT's example: "unaffable" -> un ##aff ##able; a word no pieces cover is one [UNK].
        const json vocab = {{"[UNK]", 0}, {"un", 1}, {"##aff", 2}, {"##able", 3}, {"play", 4}, {"##ing", 5},
                            {"[CLS]", 6}, {"hello", 7}, {",", 8}, {"\xE4\xB8\x96", 9}, {"\xE7\x95\x8C", 10}, {"!", 11}};
        json root = tokenizerJson(nullptr, {{"type", "WhitespaceSplit"}}, vocab,
                                  {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}});
        root["model"] = {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"},
                         {"max_input_chars_per_word", 100}, {"vocab", vocab}};
        auto t = load("tokpipe-wp", root);
        QCOMPARE(t->encode("unaffable playing xyz", false), (std::vector<int32_t>{1, 2, 3, 4, 5, 0}));
        QCOMPARE(t->decode({1, 2, 3, 4, 5}), std::string("unaffable playing"));
        QCOMPARE(t->unkId(), 0);
        // BERT's normalizer, pre-tokenizer and [CLS] first: "Héllo, 世界!" -> hello , 世 界 !
        root["normalizer"] = {{"type", "BertNormalizer"}, {"clean_text", true}, {"handle_chinese_chars", true},
                              {"strip_accents", nullptr}, {"lowercase", true}};
        root["pre_tokenizer"] = {{"type", "BertPreTokenizer"}};
        root["post_processor"] = {{"type", "BertProcessing"}, {"sep", {"[SEP]", 12}}, {"cls", {"[CLS]", 6}}};
        auto bert = load("tokpipe-bert", root);
        QCOMPARE(bert->encode("H\xC3\xA9llo,\x01 \xE4\xB8\x96\xE7\x95\x8C!"),
                 (std::vector<int32_t>{6, 7, 8, 9, 10, 11}));
        root["model"]["unk_token"] = "<nope>";
        expectError(root, ErrorCode::Format, "unk_token '<nope>'");
    }

    void unigramModel()
    {
        // Viterbi over the scores: "ab" (-2.5) beats a + b (-3); unknown characters score 10
        // below the lowest piece and consecutive ones fuse into one unk.
        json vocab = json::array({json::array({"<unk>", 0.0}), json::array({"a", -1.0}), json::array({"b", -2.0}),
                                  json::array({"ab", -2.5}), json::array({"c", -3.0})});
        json root = tokenizerJson(nullptr, {{"type", "WhitespaceSplit"}}, json::object());
        root["model"] = {{"type", "Unigram"}, {"unk_id", 0}, {"vocab", vocab}, {"byte_fallback", false}};
        auto t = load("tokpipe-unigram", root);
        QCOMPARE(t->encode("abc", false), (std::vector<int32_t>{3, 4}));
        QCOMPARE(t->encode("abdd c", false), (std::vector<int32_t>{3, 0, 4}));
        QCOMPARE(t->encode("ba", false), (std::vector<int32_t>{2, 1}));
        // byte_fallback: the fused unknown "dd" becomes its bytes when <0x64> is a piece.
        vocab.push_back(json::array({"<0x64>", -5.0}));
        root["model"]["vocab"] = vocab;
        root["model"]["byte_fallback"] = true;
        auto bytes = load("tokpipe-unigram-bytes", root);
        QCOMPARE(bytes->encode("abdd c", false), (std::vector<int32_t>{3, 5, 5, 4}));
        root["model"]["vocab"] = json::array({json::array({"a", "high"})});
        expectError(root, ErrorCode::Format, "[piece, score]");
    }

    void decoders()
    {
        // WordPiece: "##" continues a word, other tokens get a space, then the cleanup.
        const json vocab = {{"<unk>", 0}, {"hel", 1}, {"##lo", 2}, {"world", 3}, {"!", 4}, {"'s", 5}};
        auto t = load("tokpipe-wordpiece", tokenizerJson(nullptr, nullptr, vocab,
                                                         {{"type", "WordPiece"}, {"prefix", "##"}, {"cleanup", true}}));
        QCOMPARE(t->decode({1, 2, 3, 4}), std::string("hello world!"));
        QCOMPARE(t->decode({3, 5}), std::string("world's"));
        // Replace with a Regex, Strip, Fuse in a Sequence.
        const json decoder = {{"type", "Sequence"},
                              {"decoders",
                               {{{"type", "Replace"}, {"pattern", regex("_+")}, {"content", " "}},
                                {{"type", "Fuse"}},
                                {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 1}}}}};
        const json vocab2 = {{"<unk>", 0}, {"__a", 1}, {"_b_", 2}};
        auto s = load("tokpipe-replace", tokenizerJson(nullptr, nullptr, vocab2, decoder));
        QCOMPARE(s->decode({1, 2}), std::string("a b"));
    }

    void cleanUpTokenizationSpaces()
    {
        // transformers' clean_up_tokenization, applied only when tokenizer_config.json asks.
        const json vocab = {{"<unk>", 0}, {"Hello", 1}, {" ,", 2}, {" world", 3}, {" .", 4}, {" n't", 5}, {" 's", 6}};
        const json decoder = {{"type", "Fuse"}};
        const fs::path dir = awq::test::makeTempDir("tokpipe-cleanup");
        std::ofstream(dir / "tokenizer.json") << tokenizerJson(nullptr, nullptr, vocab, decoder).dump();
        auto plain = Tokenizer::load(dir);
        QVERIFY(!plain->cleansUpTokenizationSpaces());
        QCOMPARE(plain->decode({1, 2, 3, 5, 6, 4}), std::string("Hello , world n't 's ."));
        std::ofstream(dir / "tokenizer_config.json") << R"({"clean_up_tokenization_spaces": true})";
        auto clean = Tokenizer::load(dir);
        QVERIFY(clean->cleansUpTokenizationSpaces());
        QCOMPARE(clean->decode({1, 2, 3, 5, 6, 4}), std::string("Hello, worldn't's."));
        std::ofstream(dir / "tokenizer_config.json") << R"({"clean_up_tokenization_spaces": "yes"})";
        QVERIFY_THROWS_EXCEPTION(awq::Error, Tokenizer::load(dir));
    }
};

QTEST_APPLESS_MAIN(TestTokenizerPipeline)
#include "tst_tokenizer_pipeline.moc"
