#include "cli_args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <sstream>

#include "awq/core/error.h"

namespace awq::cli {

ArgParser::ArgParser(std::string usagePrefix, std::string summary)
    : m_usage(std::move(usagePrefix)), m_summary(std::move(summary))
{
}

void ArgParser::positional(const std::string &name, const std::string &help, bool optional)
{
    AWQ_ASSERT(optional || m_requiredPositionals == m_positionals.size(), "required positional ", name,
               " after an optional one");
    m_positionals.emplace_back(name, help);
    if (!optional)
        m_requiredPositionals = m_positionals.size();
}

void ArgParser::option(const std::string &name, const std::string &valueName, const std::string &help,
                       const std::string &defaultValue, bool repeatable)
{
    m_specs.push_back({name, valueName, help, defaultValue, false, repeatable});
}

void ArgParser::flag(const std::string &name, const std::string &help)
{
    m_specs.push_back({name, "", help, "", true, false});
}

const ArgParser::Spec &ArgParser::spec(const std::string &name) const
{
    for (const auto &s : m_specs)
        if (s.name == name)
            return s;
    fail(ErrorCode::InvalidArgument, "unknown option --", name, " (see --help)");
}

bool ArgParser::parse(int argc, char **argv, int first)
{
    size_t nextPositional = 0;
    for (int i = first; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h")
            return false;
        if (arg.size() > 2 && arg.compare(0, 2, "--") == 0) {
            std::string name = arg.substr(2), value;
            bool inlineValue = false;
            if (auto eq = name.find('='); eq != std::string::npos) {
                value = name.substr(eq + 1);
                name = name.substr(0, eq);
                inlineValue = true;
            }
            const Spec &s = spec(name);
            if (s.isFlag) {
                AWQ_CHECK(!inlineValue, InvalidArgument, "--", name, " takes no value");
                m_values[name] = {"1"};
                continue;
            }
            if (!inlineValue) {
                AWQ_CHECK(i + 1 < argc, InvalidArgument, "--", name, " needs a value (", s.valueName, ")");
                value = argv[++i];
            }
            AWQ_CHECK(s.repeatable || !m_values.count(name), InvalidArgument, "--", name, " given twice");
            m_values[name].push_back(value);
            continue;
        }
        AWQ_CHECK(nextPositional < m_positionals.size(), InvalidArgument, "unexpected argument '", arg, "'");
        m_positionalValues[m_positionals[nextPositional++].first] = arg;
    }
    AWQ_CHECK(nextPositional >= m_requiredPositionals, InvalidArgument, "missing ",
              m_positionals[nextPositional].first, " (see --help)");
    return true;
}

std::string ArgParser::help() const
{
    std::ostringstream out;
    out << "usage: " << m_usage;
    for (size_t i = 0; i < m_positionals.size(); ++i)
        out << " " << (i < m_requiredPositionals ? m_positionals[i].first : "[" + m_positionals[i].first + "]");
    out << " [options]\n\n" << m_summary << "\n";
    if (!m_positionals.empty()) {
        out << "\narguments:\n";
        for (const auto &[name, help] : m_positionals)
            out << "  " << name << std::string(name.size() < 24 ? 24 - name.size() : 1, ' ') << help << "\n";
    }
    out << "\noptions:\n";
    for (const auto &s : m_specs) {
        std::string left = "--" + s.name + (s.isFlag ? "" : " " + s.valueName);
        out << "  " << left << std::string(left.size() < 24 ? 24 - left.size() : 1, ' ') << s.help;
        if (!s.defaultValue.empty())
            out << " (default: " << s.defaultValue << ")";
        out << "\n";
    }
    out << "  --help                  show this help\n";
    return out.str();
}

const std::string &ArgParser::positionalValue(const std::string &name) const
{
    auto it = m_positionalValues.find(name);
    AWQ_ASSERT(it != m_positionalValues.end(), "positional ", name, " not parsed");
    return it->second;
}

bool ArgParser::hasPositional(const std::string &name) const
{
    return m_positionalValues.count(name) != 0;
}

bool ArgParser::has(const std::string &name) const
{
    return m_values.count(name) != 0;
}

std::string ArgParser::get(const std::string &name) const
{
    auto it = m_values.find(name);
    return it != m_values.end() ? it->second.back() : spec(name).defaultValue;
}

std::vector<std::string> ArgParser::getAll(const std::string &name) const
{
    auto it = m_values.find(name);
    return it != m_values.end() ? it->second : std::vector<std::string>{};
}

int64_t ArgParser::getInt(const std::string &name, int64_t min, int64_t max) const
{
    const std::string text = get(name);
    char *end = nullptr;
    errno = 0;
    const long long value = std::strtoll(text.c_str(), &end, 10);
    AWQ_CHECK(!text.empty() && end && *end == '\0' && errno == 0, InvalidArgument, "--", name,
              " expects an integer, got '", text, "'");
    AWQ_CHECK(value >= min && value <= max, InvalidArgument, "--", name, " must be in [", min, ", ", max, "], got ",
              value);
    return value;
}

double ArgParser::getDouble(const std::string &name, double min, double max) const
{
    const std::string text = get(name);
    char *end = nullptr;
    const double value = std::strtod(text.c_str(), &end);
    AWQ_CHECK(!text.empty() && end && *end == '\0' && std::isfinite(value), InvalidArgument, "--", name,
              " expects a number, got '", text, "'");
    AWQ_CHECK(value >= min && value <= max, InvalidArgument, "--", name, " must be in [", min, ", ", max, "], got ",
              value);
    return value;
}

void addBosFlags(ArgParser &args)
{
    args.flag("bos", "put the BOS token first even if the model's tokenizer does not (default: as "
                     "tokenizer_config.json's add_bos_token, else the tokenizer's post-processor)");
    args.flag("no-bos", "do not put the BOS token first, even if the model's tokenizer does");
}

BosMode bosMode(const ArgParser &args)
{
    AWQ_CHECK(!(args.has("bos") && args.has("no-bos")), InvalidArgument, "--bos and --no-bos contradict each other");
    return args.has("bos") ? BosMode::Add : args.has("no-bos") ? BosMode::Omit : BosMode::ModelDefault;
}

void addLmHeadOption(ArgParser &args)
{
    args.option("lm-head", "FORM",
                "source (the checkpoint's fp16) or int8 (quantized per 128 inputs at load: half the lm_head "
                "bytes per decode step; logits move by the rounding, docs/quality.md; needs AVX-512 VNNI, "
                "else source)",
                lmHeadFormatName(lmHeadFormat()));
}

LmHeadFormat applyLmHeadOption(const ArgParser &args)
{
    const LmHeadFormat format = parseLmHeadFormat(args.get("lm-head"));
    setLmHeadFormat(format);
    return format;
}

} // namespace awq::cli
