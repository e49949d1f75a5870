// Encodes a corpus with one tokenizer.json through the engine's tokenizer.json backend,
// for the peer comparison (compare_tokenizers.sh) and the speed figures (tokenizer_speed.sh).
// Built by those scripts with g++ from the engine sources alone (no LibTorch, no Qt).
//
//   tokenizer_ids ids   <tokenizer.json> <corpus.json>   -> {"ids": [[...], ...], "decoded": [...]}
//   tokenizer_ids speed <tokenizer.json> <text file>... -> one line per file: bytes, tokens, seconds
// corpus.json is a JSON list of strings. Errors go to stderr with exit status 1.

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "awq/core/error.h"
#include "tokenizer/hf_bpe_backend.h"

namespace {

std::string readFile(const char *path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw std::runtime_error(std::string(path) + ": cannot open");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

} // namespace

int main(int argc, char **argv)
{
    try {
        if (argc < 4)
            throw std::runtime_error("usage: tokenizer_ids ids|speed <tokenizer.json> <corpus.json | text files...>");
        const std::string mode = argv[1];
        const awq::HfBpeBackend tokenizer(argv[2]);
        if (mode == "ids") {
            const nlohmann::json corpus = nlohmann::json::parse(readFile(argv[3]));
            nlohmann::json out = {{"ids", nlohmann::json::array()}, {"decoded", nlohmann::json::array()}};
            for (const auto &text : corpus) {
                const std::vector<int32_t> ids = tokenizer.encode(text.get<std::string>());
                out["ids"].push_back(ids);
                out["decoded"].push_back(tokenizer.decode(ids));
            }
            std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
            return 0;
        }
        if (mode != "speed")
            throw std::runtime_error("unknown mode " + mode);
        for (int i = 3; i < argc; ++i) {
            const std::string text = readFile(argv[i]);
            size_t tokens = 0;
            double best = 1e30;
            for (int run = 0; run < 3; ++run) { // best of three: the machine is shared
                const auto start = std::chrono::steady_clock::now();
                tokens = tokenizer.encode(text).size();
                const std::chrono::duration<double> took = std::chrono::steady_clock::now() - start;
                best = std::min(best, took.count());
            }
            std::cout << argv[i] << "\t" << text.size() << "\t" << tokens << "\t" << best << "\n";
        }
        return 0;
    } catch (const std::exception &e) {
        std::cerr << e.what() << "\n";
        return 1;
    }
}
