#pragma once
// A small command-line parser for the `awq` subcommands: positionals, --options with
// values (also --name=value), flags, --help text. Errors throw awq::Error(InvalidArgument).

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "awq/nn/int8_linear.h"
#include "awq/tokenizer/bos_rule.h"

namespace awq::cli {

class ArgParser
{
public:
    ArgParser(std::string usagePrefix, std::string summary);

    // An optional positional may only be followed by other optional ones.
    void positional(const std::string &name, const std::string &help, bool optional = false);
    void option(const std::string &name, const std::string &valueName, const std::string &help,
                const std::string &defaultValue = {}, bool repeatable = false);
    void flag(const std::string &name, const std::string &help);

    // Parses argv[first..argc). Returns false when --help was given (help() says what to print).
    bool parse(int argc, char **argv, int first);
    std::string help() const;

    const std::string &positionalValue(const std::string &name) const;
    bool hasPositional(const std::string &name) const;
    bool has(const std::string &name) const; // given on the command line (or a flag set)
    std::string get(const std::string &name) const;
    std::vector<std::string> getAll(const std::string &name) const;
    int64_t getInt(const std::string &name, int64_t min, int64_t max) const;
    double getDouble(const std::string &name, double min, double max) const;

private:
    struct Spec {
        std::string name, valueName, help, defaultValue;
        bool isFlag = false, repeatable = false;
    };
    const Spec &spec(const std::string &name) const;
    std::string m_usage, m_summary;
    std::vector<std::pair<std::string, std::string>> m_positionals; // name, help
    size_t m_requiredPositionals = 0;
    std::vector<Spec> m_specs;
    std::map<std::string, std::string> m_positionalValues;
    std::map<std::string, std::vector<std::string>> m_values;
};

// --bos / --no-bos (awq generate, awq perplexity): override the model's own BOS default
// (awq/tokenizer/bos_rule.h). addBosFlags declares them; bosMode reads them, refusing both.
void addBosFlags(ArgParser &args);
BosMode bosMode(const ArgParser &args);

// --lm-head source|int8: the form the fused CPU decoder keeps a quantized model's lm_head in
// (awq/nn/int8_linear.h). addLmHeadOption declares it (default: AWQ_CPU_LM_HEAD, else source);
// applyLmHeadOption sets it for the process and returns it.
void addLmHeadOption(ArgParser &args);
LmHeadFormat applyLmHeadOption(const ArgParser &args);

} // namespace awq::cli
