#include "awq/tokenizer/bos_rule.h"

#include "awq/tokenizer/tokenizer.h"

namespace awq {

bool addsBos(const Tokenizer &tokenizer, BosMode mode)
{
    if (tokenizer.bosId() < 0)
        return false;
    switch (mode) {
    case BosMode::Add: return true;
    case BosMode::Omit: return false;
    case BosMode::ModelDefault: break;
    }
    return tokenizer.addBosByDefault();
}

std::vector<int32_t> encodeText(const Tokenizer &tokenizer, const std::string &text, BosMode mode)
{
    return tokenizer.encode(text, addsBos(tokenizer, mode));
}

} // namespace awq
