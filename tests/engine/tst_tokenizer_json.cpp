// tokenizer.json (Hugging Face `tokenizers`) through awq::Tokenizer: byte-level BPE (GPT-2,
// Llama 3 and Qwen2 pre-tokenizers) and sentencepiece-style BPE with byte fallback, on small
// vocabularies built here. Expected splits and ids are in tests/data/tokenizer_json/.

#include <QtTest>

#include <fstream>

#include <nlohmann/json.hpp>

#include "awq/chat/chat_prompt.h"
#include "awq/core/error.h"
#include "awq/model/model_info.h"
#include "awq/runtime/loaded_model.h"
#include "awq/runtime/utf8_stream.h"
#include "awq/tokenizer/bos_rule.h"
#include "awq/tokenizer/tokenizer.h"
#include "fixture_model.h"

using namespace awq;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const char *const kMeta = "\xE2\x96\x81"; // ▁

json readData(const std::string &name)
{
    std::ifstream in(fs::path(AWQ_SOURCE_DIR) / "tests" / "data" / "tokenizer_json" / name);
    return json::parse(in);
}

// GPT-2's bytes_to_unicode(), written out again so that the engine's copy is checked.
std::string byteLevel(const std::string &raw)
{
    std::string out;
    for (unsigned char b : raw) {
        const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        unsigned cp = b;
        if (!printable) {
            unsigned n = 0;
            for (unsigned c = 0; c < b; ++c)
                n += !((c >= '!' && c <= '~') || (c >= 0xA1 && c <= 0xAC) || c >= 0xAE);
            cp = 256 + n;
        }
        if (cp < 0x80) {
            out += static_cast<char>(cp);
        } else {
            out += static_cast<char>(0xC0 | (cp >> 6));
            out += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }
    return out;
}

// Ids 0-255: the bytes, each its own id.
json byteVocabulary()
{
    json vocab = json::object();
    for (int b = 0; b < 256; ++b)
        vocab[byteLevel(std::string(1, static_cast<char>(b)))] = b;
    return vocab;
}

json byteLevelPreTokenizer(const std::string &style)
{
    if (style == "gpt2")
        return {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", true}};
    const json data = readData("pretokenizer_splits.json");
    if (data["pre_tokenizers"].contains(style)) // as the published tokenizer.json has it
        return data["pre_tokenizers"][style];
    const std::string pattern = data["patterns"][style];
    return {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", "Isolated"}, {"invert", false}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"trim_offsets", true}, {"use_regex", false}}}}};
}

json addedToken(int id, const std::string &content, bool special, bool strip = false, bool singleWord = false)
{
    return {{"id", id},       {"content", content}, {"single_word", singleWord}, {"lstrip", strip},
            {"rstrip", strip}, {"normalized", false}, {"special", special}};
}

// The byte-level vocabulary of bpe_cases.json. "gpt2": merges as "a b" strings, no BOS;
// "llama3": [a, b] pairs, ignore_merges, Llama 3's split and a <|begin_of_text|> template.
json byteLevelTokenizer(const std::string &style)
{
    const std::vector<std::pair<std::string, std::string>> merges = {
        {"l", "l"}, {"e", "ll"}, {"h", "ell"}, {"hell", "o"}, {"Ġ", "hello"}, {"Ġ", "t"}, {"h", "e"}, {"Ġt", "he"},
        {"o", "r"}, {"w", "or"}, {"wor", "l"}, {"worl", "d"}, {"Ġ", "world"}, {"'", "s"}, {"1", "2"}, {"12", "3"},
        {"Ġ", "Ġ"}, {"Ċ", "Ċ"}, {"Ã", "©"}, {"c", "a"}, {"ca", "f"}, {"caf", "Ã©"}, {"a", "a"}};
    json vocab = byteVocabulary();
    json mergeList = json::array();
    int next = 256;
    for (const auto &[a, b] : merges) {
        vocab[a + b] = next++;
        if (style == "gpt2")
            mergeList.push_back(a + " " + b);
        else
            mergeList.push_back({a, b});
    }
    vocab["Ġzz"] = next++; // 279: reachable only through ignore_merges
    const bool llama3 = style == "llama3";
    json model = {{"type", "BPE"},          {"dropout", nullptr},          {"unk_token", nullptr},
                  {"continuing_subword_prefix", nullptr}, {"end_of_word_suffix", nullptr},
                  {"fuse_unk", false},      {"byte_fallback", false},      {"ignore_merges", llama3},
                  {"vocab", vocab},         {"merges", mergeList}};
    json root = {{"version", "1.0"},
                 {"truncation", nullptr},
                 {"padding", nullptr},
                 {"added_tokens",
                  {addedToken(280, "<|begin_of_text|>", true), addedToken(281, "<|eot_id|>", true),
                   addedToken(282, "<think>", false), addedToken(283, "<|im_start|>", true),
                   addedToken(284, "<|im_start|>assistant", true), addedToken(285, "<mask>", true, true),
                   addedToken(286, "[w]", false, false, true)}},
                 {"normalizer", nullptr},
                 {"pre_tokenizer", byteLevelPreTokenizer(llama3 ? "llama3" : style)},
                 {"decoder", {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"use_regex", true}}},
                 {"model", model}};
    json byteLevelProcessor = {{"type", "ByteLevel"}, {"add_prefix_space", true}, {"trim_offsets", false}};
    if (llama3) {
        json bos = {{"SpecialToken", {{"id", "<|begin_of_text|>"}, {"type_id", 0}}}};
        json text = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
        json templ = {{"type", "TemplateProcessing"},
                      {"single", {bos, text}},
                      {"pair", {bos, text, bos, {{"Sequence", {{"id", "B"}, {"type_id", 1}}}}}},
                      {"special_tokens",
                       {{"<|begin_of_text|>", {{"id", "<|begin_of_text|>"}, {"ids", {280}}, {"tokens", {"<|begin_of_text|>"}}}}}}};
        root["post_processor"] = {{"type", "Sequence"}, {"processors", {byteLevelProcessor, templ}}};
    } else {
        root["post_processor"] = byteLevelProcessor;
    }
    return root;
}

// The sentencepiece-style vocabulary of bpe_cases.json. "prepend": Llama 2's legacy form
// (Prepend + Replace normalizers); "metaspace": the Metaspace pre-tokenizer ("first");
// "unk": no byte fallback, fused unknowns.
json sentencePieceStyleTokenizer(const std::string &style)
{
    json vocab = {{"<unk>", 0}, {"<s>", 1}, {"</s>", 2}};
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        vocab[name] = 3 + b;
    }
    const std::string m = kMeta;
    int next = 259;
    for (const std::string &piece : {m, std::string("h"), std::string("e"), std::string("l"), std::string("o"),
                                    std::string("w"), std::string("r"), std::string("d")})
        vocab[piece] = next++;
    const std::vector<std::pair<std::string, std::string>> merges = {
        {m, "h"}, {"e", "l"}, {m + "h", "el"}, {"l", "o"}, {m + "hel", "lo"}, {m, "w"},
        {"o", "r"}, {m + "w", "or"}, {"l", "d"}, {m + "wor", "ld"}, {m, m}};
    json mergeList = json::array();
    for (const auto &[a, b] : merges) {
        vocab[a + b] = next++;
        mergeList.push_back(a + " " + b);
    }
    vocab["\xC3\xA9"] = next++; // é, 278
    json bos = {{"SpecialToken", {{"id", "<s>"}, {"type_id", 0}}}};
    json text = {{"Sequence", {{"id", "A"}, {"type_id", 0}}}};
    json root = {
        {"version", "1.0"},
        {"added_tokens", {addedToken(0, "<unk>", true), addedToken(1, "<s>", true), addedToken(2, "</s>", true)}},
        {"normalizer",
         {{"type", "Sequence"},
          {"normalizers",
           {{{"type", "Prepend"}, {"prepend", m}},
            {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", m}}}}}},
        {"pre_tokenizer", nullptr},
        {"post_processor",
         {{"type", "TemplateProcessing"},
          {"single", {bos, text}},
          {"special_tokens", {{"<s>", {{"id", "<s>"}, {"ids", {1}}, {"tokens", {"<s>"}}}}}}}},
        {"decoder",
         {{"type", "Sequence"},
          {"decoders",
           {{{"type", "Replace"}, {"pattern", {{"String", m}}}, {"content", " "}},
            {{"type", "ByteFallback"}},
            {{"type", "Fuse"}},
            {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
        {"model",
         {{"type", "BPE"}, {"dropout", nullptr}, {"unk_token", "<unk>"}, {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr}, {"fuse_unk", true}, {"byte_fallback", style != "unk"},
          {"vocab", vocab}, {"merges", mergeList}}}};
    if (style == "metaspace") {
        root["normalizer"] = nullptr;
        root["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", m}, {"prepend_scheme", "first"}, {"split", true}};
        root["decoder"] = {{"type", "Sequence"},
                           {"decoders",
                            {{{"type", "Metaspace"}, {"replacement", m}, {"prepend_scheme", "first"}, {"split", true}},
                             {{"type", "ByteFallback"}},
                             {{"type", "Fuse"}}}}};
    }
    return root;
}

fs::path folderWith(const std::string &tag, const json &tokenizerJson)
{
    const fs::path dir = awq::test::makeTempDir(tag);
    std::ofstream(dir / "tokenizer.json") << tokenizerJson.dump(1);
    return dir;
}

std::unique_ptr<Tokenizer> load(const std::string &tag, const json &tokenizerJson)
{
    return Tokenizer::load(folderWith(tag, tokenizerJson));
}

std::vector<int32_t> idsOf(const json &list)
{
    return list.get<std::vector<int32_t>>();
}

std::vector<std::string> piecesOf(const Tokenizer &t, const std::vector<int32_t> &ids)
{
    std::vector<std::string> pieces;
    for (int32_t id : ids)
        pieces.push_back(t.idToPiece(id));
    return pieces;
}

// Texts that must come back unchanged from decode(encode(text)).
const std::vector<std::string> kRoundTrips = {
    "Hello, world!", "  two leading spaces", "trailing spaces   ", "multiple   spaces\tand\ttabs",
    "line one\nline two\r\n\n\nend\n", "1234567890 and 3.14159", "it's we're they'll I'd DON'T",
    "caf\xC3\xA9 na\xC3\xAFve r\xC3\xA9sum\xC3\xA9 \xC3\x85ngstr\xC3\xB6m", "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x81\xAE\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88",
    "emoji \xF0\x9F\x98\x80\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBD mixed", "", " ", "\n", "\t \n ", "x  y   z",
    "(parens) [brackets] {braces} \"quotes\" 'single'", "a\xC2\xA0" "b\xE2\x80\x83" "c"};

void expectError(const json &tokenizerJson, ErrorCode code, const std::string &part, const std::string &tag)
{
    const fs::path dir = awq::test::makeTempDir(tag);
    std::ofstream(dir / "tokenizer.json") << tokenizerJson.dump();
    try {
        Tokenizer::load(dir);
        QFAIL(("expected an error mentioning " + part).c_str());
    } catch (const awq::Error &e) {
        const std::string what = e.what();
        QVERIFY2(e.code() == code, what.c_str());
        QVERIFY2(what.find((dir / "tokenizer.json").string()) != std::string::npos, what.c_str());
        QVERIFY2(what.find(part) != std::string::npos, what.c_str());
    }
}

} // namespace

class TestTokenizerJson : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void byteLevelAlphabetMatchesTokenizers()
    {
        // tokenizers' own expectations (byte_level.rs): ' ' -> Ġ, '\n' -> Ċ, "⭢" -> "âŃ¢".
        QCOMPARE(byteLevel(" "), std::string("\xC4\xA0"));
        QCOMPARE(byteLevel("\n"), std::string("\xC4\x8A"));
        QCOMPARE(byteLevel("\xE2\xAD\xA2"), std::string("\xC3\xA2\xC5\x83\xC2\xA2"));
        auto t = load("tokjson-alphabet", byteLevelTokenizer("gpt2"));
        QCOMPARE(t->idToPiece(32), byteLevel(" "));
        QCOMPARE(t->idToPiece(10), byteLevel("\n"));
        const auto ids = t->encode("i\xE2\xAD\xA2j", false);
        QCOMPARE(ids, (std::vector<int32_t>{'i', 0xE2, 0xAD, 0xA2, 'j'}));
        QCOMPARE(t->idToPiece(0xAD), std::string("\xC5\x83")); // Ń
    }

    void preTokenizerSplitsMatchReference()
    {
        // A vocabulary holding every expected piece and no merges, with ignore_merges: a
        // piece comes out as one token exactly when the split produced it.
        const json data = readData("pretokenizer_splits.json");
        for (const std::string style : {"gpt2", "llama3", "qwen2", "o200k", "deepseek_v3"}) {
            json vocab = byteVocabulary();
            int next = 256;
            for (const auto &c : data["cases"][style])
                for (const auto &piece : c["pieces"])
                    if (!vocab.contains(byteLevel(piece.get<std::string>())))
                        vocab[byteLevel(piece.get<std::string>())] = next++;
            json root = byteLevelTokenizer("gpt2");
            root["pre_tokenizer"] = byteLevelPreTokenizer(style);
            root["model"]["vocab"] = vocab;
            root["model"]["merges"] = json::array();
            root["model"]["ignore_merges"] = true;
            root["added_tokens"] = json::array();
            auto t = load("tokjson-split-" + style, root);
            for (const auto &c : data["cases"][style]) {
                const std::string text = c["text"];
                std::vector<std::string> expected;
                for (const auto &piece : c["pieces"])
                    expected.push_back(byteLevel(piece.get<std::string>()));
                const auto ids = t->encode(text, false);
                QVERIFY2(piecesOf(*t, ids) == expected, (style + ": " + text).c_str());
                QCOMPARE(t->decode(ids), text);
            }
        }
    }

    void byteLevelMergesGiveHandDerivedIds()
    {
        const json data = readData("bpe_cases.json");
        for (const std::string style : {"gpt2", "llama3"}) {
            auto t = load("tokjson-merges-" + style, byteLevelTokenizer(style));
            QCOMPARE(t->vocabSize(), 287);
            for (const auto &c : data["byte_level_" + style]) {
                const std::string text = c["text"];
                const auto ids = t->encode(text, false);
                QVERIFY2(ids == idsOf(c["ids"]), (style + ": " + text).c_str());
                if (c.contains("pieces"))
                    QVERIFY(piecesOf(*t, ids) == c["pieces"].get<std::vector<std::string>>());
            }
        }
    }

    void bothMergeFormsAgree()
    {
        // "a b" strings (gpt2 fixture) and [a, b] pairs give the same merges.
        json pairs = byteLevelTokenizer("gpt2");
        json list = json::array();
        for (const auto &merge : pairs["model"]["merges"]) {
            const std::string s = merge;
            list.push_back({s.substr(0, s.find(' ')), s.substr(s.find(' ') + 1)});
        }
        pairs["model"]["merges"] = list;
        auto a = load("tokjson-strings", byteLevelTokenizer("gpt2"));
        auto b = load("tokjson-pairs", pairs);
        for (const auto &text : kRoundTrips)
            QCOMPARE(a->encode(text, false), b->encode(text, false));
        QCOMPARE(a->encode("hello the world", false), (std::vector<int32_t>{259, 263, 268}));
    }

    void roundTrips()
    {
        for (const std::string style : {"gpt2", "llama3", "qwen2"}) {
            json root = byteLevelTokenizer(style == "qwen2" ? "llama3" : style);
            if (style == "qwen2") {
                root["pre_tokenizer"] = byteLevelPreTokenizer("qwen2");
                root["normalizer"] = {{"type", "NFC"}};
            }
            auto t = load("tokjson-rt-" + style, root);
            for (const auto &text : kRoundTrips) {
                const auto ids = t->encode(text, false);
                QVERIFY2(t->decode(ids) == text, (style + ": " + text).c_str());
                QVERIFY(std::find(ids.begin(), ids.end(), 280) == ids.end());
            }
        }
        auto spm = load("tokjson-rt-spm", sentencePieceStyleTokenizer("prepend"));
        auto meta = load("tokjson-rt-meta", sentencePieceStyleTokenizer("metaspace"));
        for (const auto &text : kRoundTrips) {
            QVERIFY2(spm->decode(spm->encode(text)) == text, text.c_str());
            // Metaspace ("first") adds no space before text that starts with one, and the
            // decoder drops the first: a leading space is lost, as in `tokenizers`.
            if (!text.empty() && text[0] != ' ')
                QVERIFY2(meta->decode(meta->encode(text)) == text, text.c_str());
        }
        QCOMPARE(meta->decode(meta->encode(" hi")), std::string("hi"));
    }

    void nfcNormalizerComposesBeforeMerging()
    {
        // Qwen-style: an NFC normalizer before the split. "cafe" + U+0301 must give the ids
        // of "café" (the merges know only U+00E9), as `tokenizers` does.
        json root = byteLevelTokenizer("llama3");
        root["pre_tokenizer"] = byteLevelPreTokenizer("qwen2");
        root["normalizer"] = {{"type", "NFC"}};
        auto t = load("tokjson-nfc", root);
        const auto composed = t->encode("caf\xC3\xA9", false);
        QCOMPARE(composed, (std::vector<int32_t>{277}));
        QCOMPARE(t->encode("cafe\xCC\x81", false), composed);
        root["normalizer"] = nullptr;
        auto raw = load("tokjson-nonfc", root);
        QVERIFY(raw->encode("cafe\xCC\x81", false) != composed);
    }

    void addedTokensBosAndTokenizerConfig()
    {
        const fs::path dir = folderWith("tokjson-added", byteLevelTokenizer("llama3"));
        auto t = Tokenizer::load(dir);
        QCOMPARE(t->modelFile(), dir / "tokenizer.json");
        QVERIFY(t->addBosByDefault());
        QCOMPARE(t->bosId(), 280);
        QCOMPARE(t->bosToken(), std::string("<|begin_of_text|>"));
        QCOMPARE(t->eosId(), -1); // none of the usual end tokens and no tokenizer_config.json
        QCOMPARE(t->encode("hello"), (std::vector<int32_t>{280, 259}));
        QCOMPARE(t->encode("hello", false), (std::vector<int32_t>{259}));
        QCOMPARE(t->pieceToId("<|eot_id|>"), 281);
        QCOMPARE(t->pieceToId("hello"), 259);
        QCOMPARE(t->pieceToId("not-a-piece"), -1);
        QCOMPARE(t->idToPiece(284), std::string("<|im_start|>assistant"));
        // Special added tokens are dropped by decode, others are text.
        QCOMPARE(t->decode({280, 282, 259, 281, 268}), std::string("<think>hello world"));
        QVERIFY_THROWS_EXCEPTION(awq::Error, t->decode({287}));
        QVERIFY_THROWS_EXCEPTION(awq::Error, t->idToPiece(-1));

        std::ofstream(dir / "tokenizer_config.json")
            << json{{"bos_token", "<|begin_of_text|>"}, {"eos_token", {{"content", "<|eot_id|>"}}},
                    {"add_bos_token", false}, {"chat_template", "{{ messages }}"}}
                   .dump();
        auto configured = Tokenizer::load(dir);
        QCOMPARE(configured->eosId(), 281);
        QCOMPARE(configured->eosToken(), std::string("<|eot_id|>"));
        QVERIFY(!configured->addBosByDefault());
        QCOMPARE(configured->encode("hello"), (std::vector<int32_t>{259}));
        QCOMPARE(*configured->chatTemplate(), std::string("{{ messages }}"));
        std::ofstream(dir / "tokenizer_config.json") << R"({"eos_token": "</s>"})";
        QVERIFY_THROWS_EXCEPTION(awq::Error, Tokenizer::load(dir));
    }

    // The BOS rule every entry point shares (awq/tokenizer/bos_rule.h) for tokenizer.json:
    // the post-processor's BOS when it puts one first (Llama 3), none otherwise (GPT-2);
    // the chat without a template encodes the same way.
    void bosRuleFollowsThePostProcessor()
    {
        const fs::path withDir = folderWith("tokjson-bos-llama3", byteLevelTokenizer("llama3"));
        const fs::path withoutDir = folderWith("tokjson-bos-gpt2", byteLevelTokenizer("gpt2"));
        auto with = Tokenizer::load(withDir), without = Tokenizer::load(withoutDir);
        QCOMPARE(encodeText(*with, "hello"), (std::vector<int32_t>{280, 259}));
        QCOMPARE(encodeText(*with, "hello", BosMode::Omit), (std::vector<int32_t>{259}));
        QVERIFY(!without->addBosByDefault());
        QCOMPARE(encodeText(*without, "hello"), without->encode("hello", false));
        QCOMPARE(chat::PromptBuilder(*with, withDir).build({{"user", "hello"}}).ids, encodeText(*with, "hello"));
        QCOMPARE(chat::PromptBuilder(*without, withoutDir).build({{"user", "hello"}}).ids,
                 encodeText(*without, "hello"));
    }

    void sentencePieceStyleGivesHandDerivedIds()
    {
        const json data = readData("bpe_cases.json");
        for (const std::string style : {"prepend", "metaspace", "unk"}) {
            auto t = load("tokjson-spm-" + style, sentencePieceStyleTokenizer(style));
            QCOMPARE(t->vocabSize(), 279);
            for (const auto &c : data["sentencepiece_" + style]) {
                const std::string text = c["text"];
                const auto ids = t->encode(text, false);
                QVERIFY2(ids == idsOf(c["ids"]), (style + ": " + text).c_str());
                QVERIFY(piecesOf(*t, ids) == c["pieces"].get<std::vector<std::string>>());
            }
        }
        auto t = load("tokjson-spm-defaults", sentencePieceStyleTokenizer("prepend"));
        QVERIFY(t->addBosByDefault());
        QCOMPARE(t->bosId(), 1);
        QCOMPARE(t->eosId(), 2); // "</s>" among the special added tokens
        QCOMPARE(t->unkId(), 0);
        QCOMPARE(t->encode("hello world"), (std::vector<int32_t>{1, 271, 276}));
        QCOMPARE(t->decode({1, 271, 276, 2}), std::string("hello world"));
        QCOMPARE(t->decode({267, 108, 36}), std::string("hi!"));
        QCOMPARE(t->decode({259, 271}), std::string(" hello"));
    }

    void decodeKeepsAnIncompleteUtf8Tail()
    {
        auto bytes = load("tokjson-utf8", byteLevelTokenizer("gpt2"));
        QCOMPARE(bytes->decode({230}), std::string("\xE6"));
        QCOMPARE(bytes->decode({230, 151}), std::string("\xE6\x97"));
        QCOMPARE(bytes->decode({230, 151, 165}), std::string("\xE6\x97\xA5"));
        QCOMPARE(bytes->decode({230, 104}), std::string("\xEF\xBF\xBDh")); // broken in the middle: U+FFFD
        auto spm = load("tokjson-utf8-spm", sentencePieceStyleTokenizer("prepend"));
        QCOMPARE(spm->decode({259, 233}), std::string("\xE6"));
        QCOMPARE(spm->decode({259, 233, 154, 168, 278}), std::string("\xE6\x97\xA5\xC3\xA9"));

        // Streaming token by token shows every character once, whole.
        const std::string text = "\xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80 caf\xC3\xA9 done";
        for (const Tokenizer *t : {bytes.get(), spm.get()}) {
            TextStream stream(*t, {});
            std::string shown;
            for (int32_t id : t->encode(text, false)) {
                const std::string piece = stream.push(id);
                QCOMPARE(awq::completeUtf8Prefix(piece), piece.size());
                shown += piece;
            }
            shown += stream.flush();
            QCOMPARE(shown, text);
        }
    }

    void tokenizerJsonIsPreferredOverTokenizerModel()
    {
        const fs::path both = folderWith("tokjson-both", byteLevelTokenizer("llama3"));
        fs::copy_file(awq::test::fixtureTokenizerModel(), both / "tokenizer.model");
        auto t = Tokenizer::load(both);
        QCOMPARE(t->modelFile(), both / "tokenizer.json");
        QCOMPARE(t->vocabSize(), 287);
        fs::remove(both / "tokenizer.json");
        auto spm = Tokenizer::load(both);
        QCOMPARE(spm->modelFile(), both / "tokenizer.model");
        QCOMPARE(spm->vocabSize(), 384);
    }

    void malformedFilesAreFormatErrors()
    {
        const fs::path dir = awq::test::makeTempDir("tokjson-notjson");
        std::ofstream(dir / "tokenizer.json") << "{ not json";
        try {
            Tokenizer::load(dir);
            QFAIL("expected an error");
        } catch (const awq::Error &e) {
            QVERIFY(e.code() == ErrorCode::Format);
            QVERIFY2(std::string(e.what()).find("tokenizer.json: not valid JSON") != std::string::npos, e.what());
        }
        const json good = byteLevelTokenizer("gpt2");
        expectError(json::array(), ErrorCode::Format, "expected a JSON object", "tokjson-array");
        expectError({{"version", "1.0"}}, ErrorCode::Format, "'model'", "tokjson-nomodel");
        json bad = good;
        bad["model"]["type"] = "Banana";
        expectError(bad, ErrorCode::Format, "model.type 'Banana'", "tokjson-type");
        bad = good;
        bad["model"]["merges"].push_back("q zzz");
        expectError(bad, ErrorCode::Format, "'zzz', which is not in model.vocab", "tokjson-mergeunknown");
        bad = good;
        bad["model"]["merges"].push_back("q q"); // "qq" is not in the vocabulary
        expectError(bad, ErrorCode::Format, "'qq', which is not in model.vocab", "tokjson-mergeresult");
        bad = good;
        bad["model"]["merges"].push_back("a b c");
        expectError(bad, ErrorCode::Format, "not two pieces", "tokjson-mergeform");
        bad = good;
        bad["model"]["vocab"]["extra"] = -5;
        expectError(bad, ErrorCode::Format, "has the id -5, outside", "tokjson-negative");
        bad = good;
        bad["model"]["vocab"]["extra"] = int64_t(1) << 40;
        expectError(bad, ErrorCode::Format, "outside", "tokjson-huge");
        bad = good;
        bad["model"]["vocab"]["extra"] = 259;
        expectError(bad, ErrorCode::Format, "gives the id 259 to both", "tokjson-dupid");
        bad = good;
        bad["model"]["vocab"]["extra"] = "seven";
        expectError(bad, ErrorCode::Format, "not an integer id", "tokjson-idtype");
        bad = good;
        bad["added_tokens"].push_back(addedToken(281, "<|other|>", true));
        expectError(bad, ErrorCode::Format, "added_tokens gives the id 281 to both", "tokjson-dupadded");
        bad = good;
        bad["model"].erase("vocab");
        expectError(bad, ErrorCode::Format, "model.vocab", "tokjson-novocab");
        bad = good;
        bad["model"]["unk_token"] = "<nope>";
        expectError(bad, ErrorCode::Format, "unk_token '<nope>'", "tokjson-unk");
        bad = good;
        bad["pre_tokenizer"] = {{"kind", "ByteLevel"}};
        expectError(bad, ErrorCode::Format, "'type'", "tokjson-pretype");
    }

    void unsupportedPartsNameTheFileAndThePart()
    {
        const json good = byteLevelTokenizer("gpt2");
        json bad = good;
        bad["model"]["type"] = "WordLevel";
        expectError(bad, ErrorCode::UnsupportedModel, "WordLevel", "tokjson-wordlevel");
        bad = good;
        bad["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", R"(\p{L}(?~ab))"}}}, {"behavior", "Isolated"},
                                {"invert", false}};
        expectError(bad, ErrorCode::UnsupportedModel, "absent operator", "tokjson-regex");
        bad = good;
        bad["normalizer"] = {{"type", "Precompiled"}, {"precompiled_charsmap", "AAAA"}}; // 3 bytes: no header
        expectError(bad, ErrorCode::Format, "Precompiled normalizer's charsmap is 3 bytes", "tokjson-precompiled");
        bad = good;
        bad["decoder"] = {{"type", "CTC"}};
        expectError(bad, ErrorCode::UnsupportedModel, "decoder 'CTC'", "tokjson-decoder");
        bad = good;
        bad["post_processor"] = {{"type", "Banana"}};
        expectError(bad, ErrorCode::UnsupportedModel, "post-processor 'Banana'", "tokjson-post");
        bad["post_processor"] = {{"type", "RobertaProcessing"}};
        expectError(bad, ErrorCode::Format, "RobertaProcessing.cls must be [token, id]", "tokjson-roberta");
    }

    void modelFolderWithOnlyTokenizerJsonLoads()
    {
        const fs::path dir = awq::test::makeFixtureModel(awq::test::makeTempDir("tokjson-model"));
        fs::remove(dir / "tokenizer.model");
        std::ofstream(dir / "tokenizer.json") << byteLevelTokenizer("llama3").dump();
        std::ofstream(dir / "tokenizer_config.json")
            << json{{"bos_token", "<|begin_of_text|>"}, {"eos_token", "<|eot_id|>"}}.dump();
        const ModelInfo info = inspectModel(dir);
        QVERIFY(info.hasTokenizerJson && !info.hasTokenizerModel);
        for (const auto &problem : info.problems)
            QVERIFY2(problem.find("tokenizer") == std::string::npos, problem.c_str());
        const LoadedModel loaded = loadModel(dir);
        QCOMPARE(loaded.tokenizer->encode("hello world"), (std::vector<int32_t>{280, 259, 268}));
        QCOMPARE(loaded.tokenizer->eosId(), 281);

        fs::remove(dir / "tokenizer.json");
        const ModelInfo none = inspectModel(dir);
        QVERIFY(!none.loadable());
    }

    void demoModelTokenizesAsBefore()
    {
        // The bundled demo model has only tokenizer.model: the sentencepiece path, whose ids
        // were recorded before the tokenizer.json backend existed.
        const json reference = readData("demo_llama_reference.json");
        auto t = Tokenizer::load(fs::path(AWQ_SOURCE_DIR) / "resources" / "models" / "demo-llama");
        QCOMPARE(t->modelFile().filename().string(), std::string("tokenizer.model"));
        QCOMPARE(t->vocabSize(), reference["vocab_size"].get<int32_t>());
        for (const auto &c : reference["cases"]) {
            const std::string text = c["text"];
            QVERIFY2(t->encode(text) == idsOf(c["ids"]), text.c_str());
            if (c["round_trip"].get<bool>())
                QCOMPARE(t->decode(t->encode(text)), text);
        }
    }
};

QTEST_APPLESS_MAIN(TestTokenizerJson)
#include "tst_tokenizer_json.moc"
