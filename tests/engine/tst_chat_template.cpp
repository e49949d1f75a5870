// Chat templates: the real templates of common model families (tests/data/chat_templates,
// copied from their tokenizer_config.json) render the prompts transformers builds, and the
// Jinja subset behind them works piece by piece. tst_chat_template_reference compares every
// template with Python's Jinja2.

#include <QtTest>

#include <ctime>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "awq/chat/chat_template.h"
#include "awq/core/error.h"

using namespace awq;
using namespace awq::chat;
using nlohmann::json;

Q_DECLARE_METATYPE(std::string)

namespace {

std::string templateText(const std::string &file)
{
    const std::string path = std::string(AWQ_SOURCE_DIR) + "/tests/data/chat_templates/" + file;
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error("missing test template " + path);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

// The fixed conversation: system + user + assistant + user.
std::vector<ChatMessage> conversation(bool withSystem)
{
    std::vector<ChatMessage> m;
    if (withSystem)
        m.push_back({"system", "sys"});
    m.push_back({"user", "hi"});
    m.push_back({"assistant", "hello"});
    m.push_back({"user", "again"});
    return m;
}

// The conversation llama.cpp's and mistral.rs's template tests use, with published outputs.
std::vector<ChatMessage> publishedConversation(bool withSystem)
{
    std::vector<ChatMessage> m;
    if (withSystem)
        m.push_back({"system", "You are a helpful assistant"});
    m.push_back({"user", "Hello"});
    m.push_back({"assistant", "Hi there"});
    m.push_back({"user", "Who are you"});
    m.push_back({"assistant", "   I am an assistant   "});
    m.push_back({"user", "Another question"});
    return m;
}

std::string render(const std::string &source, const json &variables = json::object())
{
    return ChatTemplate::parse(source).renderWithVariables(variables);
}

// The message of the awq::Error that `f` throws, with its code checked.
template <typename F>
std::string errorFrom(F &&f, ErrorCode code)
{
    try {
        f();
    } catch (const Error &e) {
        if (e.code() != code)
            return std::string("wrong code ") + errorCodeName(e.code()) + ": " + e.what();
        return e.what();
    }
    return "no error";
}

std::string parseError(const std::string &source)
{
    return errorFrom([&] { ChatTemplate::parse(source); }, ErrorCode::Format);
}

} // namespace

class TestChatTemplate : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void realTemplates_data()
    {
        QTest::addColumn<std::string>("file");
        QTest::addColumn<std::string>("bos");
        QTest::addColumn<std::string>("eos");
        QTest::addColumn<bool>("withSystem");
        QTest::addColumn<bool>("addGenerationPrompt");
        QTest::addColumn<std::string>("expected");

        const std::string l2 = "llama-2-chat.jinja";
        QTest::newRow("llama2 system") << l2 << std::string("<s>") << std::string("</s>") << true << true
                                       << std::string("<s>[INST] <<SYS>>\nsys\n<</SYS>>\n\nhi [/INST] hello </s><s>[INST] again [/INST]");
        QTest::newRow("llama2 system no-prompt") << l2 << std::string("<s>") << std::string("</s>") << true << false
                                                 << std::string("<s>[INST] <<SYS>>\nsys\n<</SYS>>\n\nhi [/INST] hello </s><s>[INST] again [/INST]");
        QTest::newRow("llama2 no-system") << l2 << std::string("<s>") << std::string("</s>") << false << true
                                          << std::string("<s>[INST] hi [/INST] hello </s><s>[INST] again [/INST]");

        const std::string l3 = "llama-3-instruct.jinja";
        const std::string l3Turns = "<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|>"
                                    "<|start_header_id|>assistant<|end_header_id|>\n\nhello<|eot_id|>"
                                    "<|start_header_id|>user<|end_header_id|>\n\nagain<|eot_id|>";
        const std::string l3Prompt = "<|start_header_id|>assistant<|end_header_id|>\n\n";
        const std::string l3System = "<|start_header_id|>system<|end_header_id|>\n\nsys<|eot_id|>";
        QTest::newRow("llama3 system") << l3 << std::string("<|begin_of_text|>") << std::string("<|eot_id|>") << true << true
                                       << "<|begin_of_text|>" + l3System + l3Turns + l3Prompt;
        QTest::newRow("llama3 system no-prompt") << l3 << std::string("<|begin_of_text|>") << std::string("<|eot_id|>") << true << false
                                                 << "<|begin_of_text|>" + l3System + l3Turns;
        QTest::newRow("llama3 no-system") << l3 << std::string("<|begin_of_text|>") << std::string("<|eot_id|>") << false << true
                                          << "<|begin_of_text|>" + l3Turns + l3Prompt;

        const std::string l31 = "llama-3.1-instruct.jinja";
        const std::string l31Header = "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\n"
                                      "Cutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n";
        QTest::newRow("llama3.1 system") << l31 << std::string("<|begin_of_text|>") << std::string("<|eot_id|>") << true << true
                                         << l31Header + "sys<|eot_id|>" + l3Turns + l3Prompt;
        QTest::newRow("llama3.1 system no-prompt") << l31 << std::string("<|begin_of_text|>") << std::string("<|eot_id|>") << true
                                                   << false << l31Header + "sys<|eot_id|>" + l3Turns;
        QTest::newRow("llama3.1 no-system") << l31 << std::string("<|begin_of_text|>") << std::string("<|eot_id|>") << false << true
                                            << l31Header + "<|eot_id|>" + l3Turns + l3Prompt;

        QTest::newRow("mistral v0.1") << std::string("mistral-7b-instruct-v0.1.jinja") << std::string("<s>") << std::string("</s>")
                                      << false << true << std::string("<s>[INST] hi [/INST]hello</s> [INST] again [/INST]");
        QTest::newRow("mistral v0.2") << std::string("mistral-7b-instruct-v0.2.jinja") << std::string("<s>") << std::string("</s>")
                                      << false << false << std::string("<s>[INST] hi [/INST]hello</s>[INST] again [/INST]");

        const std::string chatmlTurns = "<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n"
                                        "<|im_start|>user\nagain<|im_end|>\n";
        const std::string q2 = "qwen2-instruct.jinja";
        QTest::newRow("qwen2 system") << q2 << std::string() << std::string("<|im_end|>") << true << true
                                      << "<|im_start|>system\nsys<|im_end|>\n" + chatmlTurns + "<|im_start|>assistant\n";
        QTest::newRow("qwen2 system no-prompt") << q2 << std::string() << std::string("<|im_end|>") << true << false
                                                << "<|im_start|>system\nsys<|im_end|>\n" + chatmlTurns;
        QTest::newRow("qwen2 default system") << q2 << std::string() << std::string("<|im_end|>") << false << true
                                              << "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n" + chatmlTurns +
                                                     "<|im_start|>assistant\n";
        QTest::newRow("chatml no-system") << std::string("chatml-openhermes.jinja") << std::string() << std::string() << false << true
                                          << chatmlTurns + "<|im_start|>assistant\n";

        const std::string z = "zephyr-7b-beta.jinja";
        const std::string zTurns = "<|user|>\nhi</s>\n<|assistant|>\nhello</s>\n<|user|>\nagain</s>\n";
        QTest::newRow("zephyr system") << z << std::string("<s>") << std::string("</s>") << true << true
                                       << "<|system|>\nsys</s>\n" + zTurns + "<|assistant|>\n";
        QTest::newRow("zephyr system no-prompt") << z << std::string("<s>") << std::string("</s>") << true << false
                                                 << "<|system|>\nsys</s>\n" + zTurns;
        QTest::newRow("zephyr no-system") << z << std::string("<s>") << std::string("</s>") << false << true << zTurns + "<|assistant|>\n";

        const std::string g = "gemma-7b-it.jinja";
        const std::string gTurns = "<bos><start_of_turn>user\nhi<end_of_turn>\n<start_of_turn>model\nhello<end_of_turn>\n"
                                   "<start_of_turn>user\nagain<end_of_turn>\n";
        QTest::newRow("gemma") << g << std::string("<bos>") << std::string("<eos>") << false << true << gTurns + "<start_of_turn>model\n";
        QTest::newRow("gemma no-prompt") << g << std::string("<bos>") << std::string("<eos>") << false << false << gTurns;
    }

    void realTemplates()
    {
        QFETCH(std::string, file);
        QFETCH(std::string, bos);
        QFETCH(std::string, eos);
        QFETCH(bool, withSystem);
        QFETCH(bool, addGenerationPrompt);
        QFETCH(std::string, expected);
        const ChatTemplate t = ChatTemplate::parse(templateText(file));
        const std::string out = t.render(conversation(withSystem), {addGenerationPrompt, bos, eos});
        QCOMPARE(out, expected);
    }

    // Outputs published with llama.cpp's and mistral.rs's template tests (checked there
    // against transformers), for the six-message conversation those tests use.
    void publishedOutputs_data()
    {
        QTest::addColumn<std::string>("file");
        QTest::addColumn<std::string>("bos");
        QTest::addColumn<std::string>("eos");
        QTest::addColumn<bool>("withSystem");
        QTest::addColumn<std::string>("expected");
        QTest::newRow("chatml") << std::string("chatml-openhermes.jinja") << std::string("<s>") << std::string("</s>") << true
                                << std::string("<|im_start|>system\nYou are a helpful assistant<|im_end|>\n<|im_start|>user\nHello<|im_end|>\n"
                                               "<|im_start|>assistant\nHi there<|im_end|>\n<|im_start|>user\nWho are you<|im_end|>\n"
                                               "<|im_start|>assistant\n   I am an assistant   <|im_end|>\n<|im_start|>user\n"
                                               "Another question<|im_end|>\n<|im_start|>assistant\n");
        QTest::newRow("llama2") << std::string("llama-2-chat.jinja") << std::string("<s>") << std::string("</s>") << true
                                << std::string("<s>[INST] <<SYS>>\nYou are a helpful assistant\n<</SYS>>\n\nHello [/INST] Hi there </s>"
                                               "<s>[INST] Who are you [/INST] I am an assistant </s><s>[INST] Another question [/INST]");
        QTest::newRow("mistral v0.1") << std::string("mistral-7b-instruct-v0.1.jinja") << std::string("<s>") << std::string("</s>")
                                      << false
                                      << std::string("<s>[INST] Hello [/INST]Hi there</s> [INST] Who are you [/INST]   I am an assistant   "
                                                     "</s> [INST] Another question [/INST]");
        QTest::newRow("mistral v0.2") << std::string("mistral-7b-instruct-v0.2.jinja") << std::string("<s>") << std::string("</s>")
                                      << false
                                      << std::string("<s>[INST] Hello [/INST]Hi there</s>[INST] Who are you [/INST]   I am an assistant   "
                                                     "</s>[INST] Another question [/INST]");
        QTest::newRow("gemma") << std::string("gemma-7b-it.jinja") << std::string("<bos>") << std::string("<eos>") << false
                               << std::string("<bos><start_of_turn>user\nHello<end_of_turn>\n<start_of_turn>model\nHi there<end_of_turn>\n"
                                              "<start_of_turn>user\nWho are you<end_of_turn>\n<start_of_turn>model\nI am an assistant"
                                              "<end_of_turn>\n<start_of_turn>user\nAnother question<end_of_turn>\n<start_of_turn>model\n");
        QTest::newRow("llama3") << std::string("llama-3-instruct.jinja") << std::string() << std::string() << true
                                << std::string("<|start_header_id|>system<|end_header_id|>\n\nYou are a helpful assistant<|eot_id|>"
                                               "<|start_header_id|>user<|end_header_id|>\n\nHello<|eot_id|><|start_header_id|>assistant"
                                               "<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>user<|end_header_id|>\n\n"
                                               "Who are you<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nI am an assistant"
                                               "<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nAnother question<|eot_id|>"
                                               "<|start_header_id|>assistant<|end_header_id|>\n\n");
    }

    void publishedOutputs()
    {
        QFETCH(std::string, file);
        QFETCH(std::string, bos);
        QFETCH(std::string, eos);
        QFETCH(bool, withSystem);
        QFETCH(std::string, expected);
        QCOMPARE(ChatTemplate::parse(templateText(file)).render(publishedConversation(withSystem), {true, bos, eos}), expected);
    }

    void zephyrMatchesTransformersForAnotherConversation()
    {
        // mistral.rs's test, "output checked against python transformers".
        const std::vector<ChatMessage> m = {{"system", "You are terse."}, {"user", "Hello!"}, {"assistant", "Hi."}, {"user", "What is 2+2?"}};
        QCOMPARE(ChatTemplate::parse(templateText("zephyr-7b-beta.jinja")).render(m, {true, "<s>", "</s>"}),
                 std::string("<|system|>\nYou are terse.</s>\n<|user|>\nHello!</s>\n<|assistant|>\nHi.</s>\n<|user|>\nWhat is 2+2?</s>\n"
                             "<|assistant|>\n"));
    }

    void raiseExceptionGivesTheTemplatesMessage()
    {
        const std::vector<ChatMessage> twoUsers = {{"user", "a"}, {"user", "b"}};
        const std::string alternate = "Conversation roles must alternate user/assistant/user/assistant/...";
        for (const char *file : {"llama-2-chat.jinja", "mistral-7b-instruct-v0.1.jinja", "mistral-7b-instruct-v0.2.jinja", "gemma-7b-it.jinja"}) {
            const ChatTemplate t = ChatTemplate::parse(templateText(file));
            QCOMPARE(errorFrom([&] { t.render(twoUsers, {true, "<s>", "</s>"}); }, ErrorCode::InvalidArgument), alternate);
        }
        // Mistral has no system role: a leading system message breaks the alternation.
        const ChatTemplate mistral = ChatTemplate::parse(templateText("mistral-7b-instruct-v0.1.jinja"));
        QCOMPARE(errorFrom([&] { mistral.render(conversation(true), {true, "<s>", "</s>"}); }, ErrorCode::InvalidArgument), alternate);
        const ChatTemplate gemma = ChatTemplate::parse(templateText("gemma-7b-it.jinja"));
        QCOMPARE(errorFrom([&] { gemma.render(conversation(true), {true, "<bos>", "<eos>"}); }, ErrorCode::InvalidArgument),
                 std::string("System role not supported"));
        QCOMPARE(errorFrom([] { render("{{ raise_exception('custom ' ~ 42) }}"); }, ErrorCode::InvalidArgument), std::string("custom 42"));
    }

    void copiesShareTheParsedTemplate()
    {
        ChatTemplate a = ChatTemplate::parse("{{ messages | length }}");
        const ChatTemplate b = a;
        a = ChatTemplate::parse("other");
        QCOMPARE(b.render(conversation(true), {}), std::string("4"));
        QCOMPARE(a.render({}, {}), std::string("other"));
        QCOMPARE(b.source(), std::string("{{ messages | length }}"));
        QCOMPARE(ChatTemplate().render(conversation(true), {}), std::string());
    }

    void parseErrorsNameLineAndColumn()
    {
        std::string m = parseError("line one\n{% if x %}\n  {{ x + }}\n{% endif %}");
        QVERIFY2(m.find("line 3, column 10") != std::string::npos && m.find("unexpected '}}'") != std::string::npos, m.c_str());
        m = parseError("{% for m in messages %}\n{{ m }}");
        QVERIFY2(m.find("line 1, column 4") != std::string::npos && m.find("'endfor'") != std::string::npos, m.c_str());
        m = parseError("ok\n\n   {% endif %}");
        QVERIFY2(m.find("line 3, column 7") != std::string::npos && m.find("unexpected 'endif'") != std::string::npos, m.c_str());
        m = parseError("{{ 'open }}");
        QVERIFY2(m.find("line 1, column 4") != std::string::npos && m.find("never closed") != std::string::npos, m.c_str());
        m = parseError("{% frobnicate %}");
        QVERIFY2(m.find("unknown or unsupported tag 'frobnicate'") != std::string::npos, m.c_str());
        m = parseError("{{ a\n");
        QVERIFY2(m.find("line 1, column 1") != std::string::npos && m.find("'}}'") != std::string::npos, m.c_str());
        m = parseError("{# never closed");
        QVERIFY2(m.find("comment") != std::string::npos, m.c_str());
        m = parseError("{% break %}");
        QVERIFY2(m.find("outside a for loop") != std::string::npos, m.c_str());
        m = parseError("{{ a ? b }}");
        QVERIFY2(m.find("line 1, column 6") != std::string::npos && m.find("'?'") != std::string::npos, m.c_str());
    }

    void evaluationErrorsNameLineAndColumn()
    {
        std::string m = errorFrom([] { render("a\n{{ 1 + 'x' }}"); }, ErrorCode::Format);
        QVERIFY2(m.find("line 2, column 6") != std::string::npos && m.find("int and string") != std::string::npos, m.c_str());
        m = errorFrom([] { render("{{ missing + 1 }}"); }, ErrorCode::Format);
        QVERIFY2(m.find("line 1, column 12") != std::string::npos && m.find("'missing' is undefined") != std::string::npos, m.c_str());
        m = errorFrom([] { render("{{ nothing() }}"); }, ErrorCode::Format);
        QVERIFY2(m.find("'nothing' is undefined") != std::string::npos, m.c_str());
        m = errorFrom([] { render("{{ 'x' | frobnicate }}"); }, ErrorCode::Format);
        QVERIFY2(m.find("unknown filter 'frobnicate'") != std::string::npos, m.c_str());
        m = errorFrom([] { render("{{ 1 // 0 }}"); }, ErrorCode::Format);
        QVERIFY2(m.find("division by zero") != std::string::npos, m.c_str());
        m = errorFrom([] { render("{% set s = 'x' %}{% set s.a = 1 %}"); }, ErrorCode::Format);
        QVERIFY2(m.find("only on a namespace") != std::string::npos, m.c_str());
    }

    void literalsAndOperators()
    {
        QCOMPARE(render("{{ 'a' ~ 1 ~ none ~ true ~ 1.5 }}"), std::string("a1NoneTrue1.5"));
        QCOMPARE(render("{{ \"dq\" + 'sq' }}|{{ 'a' 'b' }}"), std::string("dqsq|ab"));
        QCOMPARE(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ 7 % 3 }} {{ -7 % 3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 2 * 3 + 1 }} {{ 2 * (3 + 1) }}"),
                 std::string("3 -4 1 2 3.5 1024 7 8"));
        QCOMPARE(render("{{ 1 + 2.5 }} {{ 4 / 2 }} {{ 0.1 + 0.2 }} {{ -3 }} {{ 'ab' * 2 }}"), std::string("3.5 2.0 0.30000000000000004 -3 abab"));
        QCOMPARE(render("{{ [1, 'a', none] }} {{ {'k': [1, 2]} }} {{ (1, 2) | length }} {{ 2 in (1, 2) }}"), std::string("[1, 'a', None] {'k': [1, 2]} 2 True"));
        QCOMPARE(render("{{ 1 == 1.0 }} {{ 'a' != 'b' }} {{ 2 < 3 }} {{ 3 <= 2 }} {{ 'b' > 'a' }} {{ 2 >= 2 }} {{ [1] == [1] }}"),
                 std::string("True True True False True True True"));
        QCOMPARE(render("{{ true and 'x' }} {{ false or 'y' }} {{ not none }} {{ 0 or '' or 'z' }} {{ True }} {{ None }}"),
                 std::string("x y True z True None"));
        QCOMPARE(render("{{ 'ell' in 'hello' }} {{ 2 in [1, 2] }} {{ 'k' in {'k': 1} }} {{ 'q' not in 'abc' }} {{ 'x' in missing }}"),
                 std::string("True True True True False"));
        QCOMPARE(render("{{ 'yes' if 1 > 0 else 'no' }} {{ 'yes' if 0 else 'no' }} [{{ 'only' if false }}]"), std::string("yes no []"));
        QCOMPARE(render("{{ not 1 == 2 }} {{ -2 + 5 }} {{ 1 + 2 * 3 - 4 }}"), std::string("True 3 3"));
    }

    void variablesAttributesAndSubscripts()
    {
        const json vars = {{"m", json::array({{{"role", "user"}, {"content", "hi"}}, {{"role", "assistant"}, {"content", "yo"}}})},
                           {"s", "héllo"},
                           {"l", json::array({1, 2, 3, 4, 5})}};
        QCOMPARE(render("{{ m[0]['role'] }} {{ m[0].content }} {{ m[-1].role }} {{ m.1.content }} {{ s[1] }} {{ l[-2] }}", vars),
                 std::string("user hi assistant yo é 4"));
        QCOMPARE(render("{{ l[1:] }} {{ l[:2] }} {{ l[::-1] }} {{ l[1:4:2] }} {{ l[-2:] }} {{ s[::-1] }} {{ s[1:3] }} {{ l[10:] }}", vars),
                 std::string("[2, 3, 4, 5] [1, 2] [5, 4, 3, 2, 1] [2, 4] [4, 5] olléh él []"));
        // Undefined: renders empty, is falsy, and attribute chains on it stay undefined.
        QCOMPARE(render("[{{ nope }}][{{ nope.a.b }}][{{ m[5] }}][{{ m[0].missing }}]{{ 'f' if not nope else 't' }}", vars),
                 std::string("[][][][]f"));
        QCOMPARE(render("{{ tools is defined }} {{ documents is not defined }} {{ m[0].role is defined }} {{ nope.x is defined }}", vars),
                 std::string("False True True False"));
    }

    void tests()
    {
        const json vars = {{"d", {{"a", 1}}}, {"l", json::array({1})}, {"n", nullptr}, {"s", "x"}, {"i", 3}, {"f", 1.5}};
        QCOMPARE(render("{{ n is none }} {{ s is none }} {{ s is string }} {{ i is string }} {{ d is mapping }} {{ l is mapping }}", vars),
                 std::string("True False True False True False"));
        QCOMPARE(render("{{ l is iterable }} {{ s is iterable }} {{ d is iterable }} {{ i is iterable }} {{ l is sequence }} {{ i is sequence }}",
                        vars),
                 std::string("True True True False True False"));
        QCOMPARE(render("{{ i is number }} {{ f is number }} {{ s is number }} {{ i is integer }} {{ f is float }} {{ true is boolean }}", vars),
                 std::string("True True False True True True"));
        QCOMPARE(render("{{ i is odd }} {{ i is even }} {{ 9 is divisibleby 3 }} {{ 9 is divisibleby(4) }} {{ s is equalto 'x' }} "
                        "{{ i is not none }} {{ 'A' is upper }}",
                        vars),
                 std::string("True False True False True True True"));
    }

    void unicodeStringMethodsMatchPython()
    {
        // Expected values rendered by Jinja2 3.1.6 (Python 3.11): whitespace is str.isspace()
        // (U+00A0, U+3000, U+2028, U+0085, U+205F), case mapping is full ("ß" -> "SS", final
        // sigma, İ -> "i̇"), |title is Jinja's own (item[0].upper()), not str.title().
        const json vars = {{"s", "\u00a0\u3000 hi there\u2028\u0085\u205f"},
                           {"w", "straße ΣΟΦΟΣ ǅemal İstanbul ﬁx"}};
        QCOMPARE(render("[{{ s | trim }}][{{ s.strip() }}][{{ s.lstrip() }}][{{ s.rstrip() }}]", vars),
                 std::string("[hi there][hi there][hi there\u2028\u0085\u205f][\u00a0\u3000 hi there]"));
        QCOMPARE(render("{{ s.split() | join('|') }}/{{ s.split(none, 1) | join('|') }}", vars),
                 std::string("hi|there/hi|there\u2028\u0085\u205f"));
        QCOMPARE(render("{{ w | upper }}|{{ w.upper() }}|{{ w | lower }}|{{ w.lower() }}", vars),
                 std::string("STRASSE ΣΟΦΟΣ ǄEMAL İSTANBUL FIX|STRASSE ΣΟΦΟΣ ǄEMAL İSTANBUL FIX|"
                             "straße σοφος ǆemal i̇stanbul ﬁx|straße σοφος ǆemal i̇stanbul ﬁx"));
        QCOMPARE(render("{{ w | title }}|{{ w.title() }}|{{ w | capitalize }}|{{ w.capitalize() }}", vars),
                 std::string("Straße Σοφος Ǆemal İstanbul FIx|Straße Σοφος ǅemal İstanbul Fix|"
                             "Straße σοφος ǆemal i̇stanbul ﬁx|Straße σοφος ǆemal i̇stanbul ﬁx"));
        QCOMPARE(render("{{ 'ﬁnal-straße (ǆungla' | title }}|{{ 'ﬁnal-straße (ǆungla'.title() }}"),
                 std::string("FInal-Straße (Ǆungla|Final-Straße (ǅungla"));
        // strip(chars) takes code points, not bytes: '×' (C3 97) and 'é' (C3 A9) share a byte.
        QCOMPARE(render("{{ '×ab×'.strip('×') }}|{{ 'éaé'.strip('é') }}|{{ 'xxhixx'.lstrip('x') }}|{{ 'xxhixx'.rstrip('x') }}"),
                 std::string("ab|a|hixx|xxhi"));
        QCOMPARE(render("{{ 'ΣΑΣ' is upper }} {{ 'σας' is lower }} {{ '123' is lower }} {{ 'ß' is lower }} "
                        "{{ '\u3000 \u00a0'.isspace() }} {{ 'a '.isspace() }}"),
                 std::string("True True False True True False"));
    }

    void filters()
    {
        const json vars = {{"items", json::array({{{"name", "a"}, {"on", true}}, {{"name", "b"}, {"on", false}}, {{"name", "c"}, {"on", true}}})},
                           {"d", {{"x", 1}, {"y", "two"}}}};
        QCOMPARE(render("[{{ '  pad \n' | trim }}] {{ 'abc' | length }} {{ [1, 2] | count }} {{ 'Ab' | upper }} {{ 'Ab' | lower }} "
                        "{{ 'hELLO world' | capitalize }} {{ 'hello big world' | title }}"),
                 std::string("[pad] 3 2 AB ab Hello world Hello Big World"));
        QCOMPARE(render("{{ missing | default('dflt') }} {{ '' | default('dflt') }} {{ '' | default('dflt', true) }} {{ 'set' | d('x') }}"),
                 std::string("dflt  dflt set"));
        QCOMPARE(render("{{ [3, 4, 5] | first }} {{ [3, 4, 5] | last }} {{ 'xyz' | first }} {{ [1, 2, 3] | join(', ') }} {{ ['a', 'b'] | join }}"),
                 std::string("3 5 x 1, 2, 3 ab"));
        QCOMPARE(render("{{ 'a-b-c' | replace('-', '+') }} {{ 'a-b-c' | replace('-', '', 1) }} {{ 'ab' | list }} {{ 42 | string ~ '!' }}"),
                 std::string("a+b+c ab-c ['a', 'b'] 42!"));
        QCOMPARE(render("{{ '42' | int + 1 }} {{ 3.9 | int }} {{ 'x' | int }} {{ 'x' | int(7) }} {{ '2.5' | float }}"), std::string("43 3 0 7 2.5"));
        QCOMPARE(render("{% for k, v in d | items %}{{ k }}={{ v }};{% endfor %}", vars), std::string("x=1;y=two;"));
        QCOMPARE(render("{{ items | selectattr('on') | map(attribute='name') | join(',') }} "
                        "{{ items | rejectattr('on') | map(attribute='name') | join(',') }} "
                        "{{ items | selectattr('name', 'equalto', 'b') | list | length }} "
                        "{{ [1, 2, 3, 4] | select('odd') | list }} {{ [1, 2, 3, 4] | reject('odd') | list }} "
                        "{{ ['a', 'b'] | map('upper') | list }}",
                        vars),
                 std::string("a,c b 1 [1, 3] [2, 4] ['A', 'B']"));
        QCOMPARE(render("{{ d | tojson }}|{{ 'é\"\\n' | tojson }}|{{ [1, 2.5, none, true] | tojson }}", vars),
                 std::string("{\"x\": 1, \"y\": \"two\"}|\"é\\\"\\n\"|[1, 2.5, null, true]"));
        QCOMPARE(render("{{ d | tojson(indent=2) }}", vars), std::string("{\n  \"x\": 1,\n  \"y\": \"two\"\n}"));
        QCOMPARE(render("{{ [3, 1] | reverse | list }} {{ -4 | abs }} {{ 'a' | safe }}"), std::string("[1, 3] 4 a"));
        // Filters bind tighter than arithmetic, as in Jinja: 'x' + (' y ' | trim).
        QCOMPARE(render("{{ 'x' + ' y ' | trim + 'z' }}"), std::string("xyz"));
    }

    void methods()
    {
        const json vars = {{"d", {{"a", 1}, {"b", 2}}}};
        QCOMPARE(render("[{{ '  a b  '.strip() }}][{{ '  a '.lstrip() }}][{{ ' a  '.rstrip() }}][{{ 'xxaxx'.strip('x') }}]"),
                 std::string("[a b][a ][ a][a]"));
        QCOMPARE(render("{{ 'a,b,,c'.split(',') }} {{ ' a  b '.split() }} {{ 'a b c'.split(' ', 1) }} {{ 'x</think>y'.split('</think>')[-1] }}"),
                 std::string("['a', 'b', '', 'c'] ['a', 'b'] ['a', 'b c'] y"));
        QCOMPARE(render("{{ 'hello'.startswith('he') }} {{ 'hello'.endswith('lo') }} {{ 'hello'.startswith('lo') }} {{ 'Hi'.upper() }} "
                        "{{ 'Hi'.lower() }} {{ 'hi there'.title() }} {{ 'a-a'.replace('a', 'b') }} {{ 'hi'.capitalize() }}"),
                 std::string("True True False HI hi Hi There b-b Hi"));
        QCOMPARE(render("{% for k, v in d.items() %}{{ k }}{{ v }}{% endfor %} {{ d.keys() | list }} {{ d.values() | list }} {{ d.get('a') }} "
                        "{{ d.get('z', 'none') }} {{ d.get('z') }}",
                        vars),
                 std::string("a1b2 ['a', 'b'] [1, 2] 1 none None"));
        const std::string m = errorFrom([] { render("{{ 'x'.frobnicate() }}"); }, ErrorCode::Format);
        QVERIFY2(m.find("has no method 'frobnicate'") != std::string::npos, m.c_str());
    }

    void functions()
    {
        QCOMPARE(render("{{ range(3) | list }} {{ range(1, 7, 2) | list }} {{ range(3, 0, -1) | list }}"),
                 std::string("[0, 1, 2] [1, 3, 5] [3, 2, 1]"));
        QCOMPARE(render("{% set ns = namespace(n=0, found=false) %}{% for i in range(4) %}{% set ns.n = ns.n + i %}{% if i == 2 %}"
                        "{% set ns.found = true %}{% endif %}{% endfor %}{{ ns.n }} {{ ns.found }}"),
                 std::string("6 True"));
        char expected[64];
        const std::time_t now = std::time(nullptr);
        std::tm local{};
        localtime_r(&now, &local);
        std::strftime(expected, sizeof expected, "%d %b %Y", &local);
        QCOMPARE(render("{{ strftime_now('%d %b %Y') }}"), std::string(expected));
        QCOMPARE(render("{{ strftime_now is defined }}"), std::string("True"));
        QCOMPARE(render("{{ dict(a=1)['a'] }}"), std::string("1"));
    }

    void statements()
    {
        QCOMPARE(render("{% for x in [1, 2, 3] %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }};{% endfor %}"),
                 std::string("10TrueFalse3;21FalseFalse3;32FalseTrue3;"));
        QCOMPARE(render("{% for x in [1, 2, 3, 4] if x is even %}{{ x }}/{{ loop.length }}{% endfor %}"), std::string("2/24/2"));
        QCOMPARE(render("{% for x in [] %}{{ x }}{% else %}empty{% endfor %}"), std::string("empty"));
        QCOMPARE(render("{% for c in 'ab' %}{{ c }}.{% endfor %}{% for k in {'p': 1, 'q': 2} %}{{ k }}{% endfor %}"), std::string("a.b.pq"));
        QCOMPARE(render("{% for x in range(10) %}{% if x == 1 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}"),
                 std::string("023"));
        QCOMPARE(render("{% if 0 %}a{% elif '' %}b{% elif 'x' %}c{% else %}d{% endif %}{% if none %}e{% else %}f{% endif %}"), std::string("cf"));
        // set inside a loop does not leak out; set at the top level does.
        QCOMPARE(render("{% set x = 'outer' %}{% for i in [1] %}{% set x = 'inner' %}{{ x }} {% endfor %}{{ x }}"), std::string("inner outer"));
        QCOMPARE(render("{% if true %}{% set y = 'kept' %}{% endif %}{{ y }}"), std::string("kept"));
        QCOMPARE(render("{% set block %}a{{ 1 + 1 }}b{% endset %}[{{ block }}]"), std::string("[a2b]"));
        QCOMPARE(render("{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('Ann') }} {{ greet('Bo', punct='?') }}"),
                 std::string("Hi Ann! Hi Bo?"));
        QCOMPARE(render("a{# a comment {{ not rendered }} #}b"), std::string("ab"));
        QCOMPARE(render("{% generation %}kept{% endgeneration %}"), std::string("kept"));
        QCOMPARE(render("{% for a, b in [[1, 2], [3, 4]] %}{{ a + b }} {% endfor %}"), std::string("3 7 "));
    }

    void whitespaceControl()
    {
        QCOMPARE(render("a  {{- 'b' -}}  \n c"), std::string("abc"));
        QCOMPARE(render("a \n {%- if true -%} \n b \n {%- endif -%} \n c"), std::string("abc"));
        QCOMPARE(render("a {#- note -#} b"), std::string("ab"));
        QCOMPARE(render("x {{ 'y' }} z"), std::string("x y z"));
        // '+' keeps what trim_blocks / lstrip_blocks would remove.
        QCOMPARE(render("  {%+ if true %}x{% endif +%}\ny"), std::string("  x\ny"));
    }

    void trimAndLstripBlocks()
    {
        // trim_blocks: the newline right after a block tag goes; lstrip_blocks: the indentation before it.
        QCOMPARE(render("{% if true %}\n  yes\n{% endif %}\nafter"), std::string("  yes\nafter"));
        QCOMPARE(render("<ul>\n    {% for i in [1, 2] %}\n    <li>{{ i }}</li>\n    {% endfor %}\n</ul>"),
                 std::string("<ul>\n    <li>1</li>\n    <li>2</li>\n</ul>"));
        // Not for expressions: the newline after }} and the indentation before {{ stay.
        QCOMPARE(render("  {{ 'a' }}\nb"), std::string("  a\nb"));
        // Not when the tag shares its line with text.
        QCOMPARE(render("x {% if true %}y{% endif %}"), std::string("x y"));
        // Comments are trimmed like blocks.
        QCOMPARE(render("a\n  {# c #}\nb"), std::string("a\nb"));
        // One trailing newline of the template is dropped (keep_trailing_newline=False).
        QCOMPARE(render("text\n"), std::string("text"));
        QCOMPARE(render("text\n\n"), std::string("text\n"));
        // Escapes in string literals.
        QCOMPARE(render("{{ 'a\\nb\\t\\'c\\' \\u00e9' }}"), std::string("a\nb\t'c' é"));
    }

    // A chat template comes from a model folder: a hostile one gets a Format error, never
    // a stack overflow, an endless render or gigabytes of memory (docs/reliability.md).
    void hostileTemplatesAreRefused_data()
    {
        QTest::addColumn<QString>("source");
        QTest::addColumn<QString>("expected");
        const auto repeat = [](const char *s, int n) {
            QString out;
            for (int i = 0; i < n; ++i)
                out += QString::fromLatin1(s);
            return out;
        };
        QTest::newRow("macro calling itself")
            << "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}" << "evaluation nests deeper than 400 levels";
        QTest::newRow("nested loops, 10^10 steps")
            << "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}"
            << "takes more than 500000 steps";
        QTest::newRow("range of 10^9") << "{{ range(1000000000)|length }}" << "range() is longer than";
        QTest::newRow("100000 parentheses") << "{{ " + repeat("(", 100000) + "1" + repeat(")", 100000) + " }}"
                                            << "nests deeper than 200 levels";
        QTest::newRow("20000 nested ifs") << repeat("{% if 1 %}", 20000) + repeat("{% endif %}", 20000)
                                          << "nests deeper than 200 levels";
        QTest::newRow("a chain of 100000 additions") << "{{ 1" + repeat(" + 1", 100000) + " }}"
                                                     << "nests deeper than 200 levels";
        QTest::newRow("a chain of 100000 attributes") << "{{ x" + repeat(".a", 100000) + " }}"
                                                      << "nests deeper than 200 levels";
        QTest::newRow("a gigabyte string") << "{{ 'x' * 1000000000 }}"
                                           << "repeating a string of 1 bytes 1000000000 times";
        QTest::newRow("a string doubled 40 times")
            << "{% set ns = namespace(s='x') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}"
            << "is longer than a chat template may build";
        QTest::newRow("a list doubled 30 times")
            << "{% set ns = namespace(l=[1]) %}{% for i in range(30) %}{% set ns.l = ns.l + ns.l %}{% endfor %}"
            << "items is longer than a chat template may build";
        // Found by fuzz_chat_template (UBSan: signed overflow); Python would make a big int.
        QTest::newRow("an integer literal past 2^63, plus 1")
            << "{{ 0333333333333333333333333333 + 1 }}" << "integer overflow in 9223372036854775807 + 1";
        QTest::newRow("2 ** 64") << "{{ 2 ** 64 }}" << "integer overflow";
        QTest::newRow("2 ** 10^18 (was a loop of 10^18 steps)") << "{{ 1 ** 1000000000000000000 + 2 ** 1000000000000000000 }}"
                                                               << "integer overflow";
        QTest::newRow("-(-2^63)") << "{{ -(-9223372036854775807 - 1) }}" << "integer overflow";
        QTest::newRow("-2^63 // -1") << "{{ (-9223372036854775807 - 1) // -1 }}" << "integer overflow";
        QTest::newRow("output of 10^5 x 200 bytes")
            << "{% for i in range(100000) %}" + repeat("x", 200) + "{% endfor %}" << "rendered prompt would be longer";
    }
    void hostileTemplatesAreRefused()
    {
        QFETCH(QString, source);
        QFETCH(QString, expected);
        QElapsedTimer timer;
        timer.start();
        const std::string message = errorFrom([&] { render(source.toStdString()); }, ErrorCode::Format);
        qInfo("%s (%lld ms)", message.substr(0, 160).c_str(), static_cast<long long>(timer.elapsed()));
        QVERIFY2(message.find(expected.toStdString()) != std::string::npos, message.c_str());
    }
};

QTEST_APPLESS_MAIN(TestChatTemplate)
#include "tst_chat_template.moc"
