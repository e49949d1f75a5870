// libFuzzer: a chat_template from tokenizer_config.json is parsed and rendered with a
// short conversation. Errors are awq::Error; nothing else may escape or crash.
#include <string>
#include <vector>

#include "awq/chat/chat_template.h"
#include "awq/core/error.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string source(reinterpret_cast<const char *>(data), size);
    try {
        const awq::chat::ChatTemplate tmpl = awq::chat::ChatTemplate::parse(source);
        const std::vector<awq::chat::ChatMessage> messages = {
            {"system", "Be brief."}, {"user", "Hi {{ there }}"}, {"assistant", "Hello."}, {"user", "Bye"}};
        awq::chat::TemplateContext context;
        context.bosToken = "<s>";
        context.eosToken = "</s>";
        (void)tmpl.render(messages, context);
    } catch (const awq::Error &) {
    }
    return 0;
}
