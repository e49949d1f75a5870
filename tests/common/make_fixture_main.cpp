// awq_make_fixture FOLDER [--gqa] [--tied] [--fp16|--bf16] [--no-add-bos] [--vocab N] [--favour ID]...
// [--tinyllama] [--arch TYPE] [--layers N]: writes a random Llama model folder: tiny by default (the CLI smoke test; --vocab
// pads the embeddings past the tokenizer's 384 pieces, --favour makes lm_head row ID win at
// every position, --no-add-bos writes add_bos_token false), or TinyLlama-1.1B-shaped
// (22 layers, hidden 2048, intermediate 5632, 32 heads / 4 KV heads, vocab 32000, fp16;
// about 2.2 GB) for the quantization timing benchmark. --arch picks the architecture (llama,
// mistral, qwen2, qwen3, gemma, gemma2, phi3: scripts/gpu/compare_transformers.py), --layers
// the number of decoder layers (a TinyLlama-shaped model with fewer layers quantizes faster).

#include <cstdlib>
#include <cstring>
#include <iostream>

#include "awq/core/error.h"
#include "fixture_model.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        std::cerr << "usage: awq_make_fixture FOLDER [--gqa] [--tied] [--fp16|--bf16] [--no-add-bos] [--vocab N] "
                     "[--favour ID]... [--tinyllama] [--arch TYPE] [--layers N]\n";
        return 2;
    }
    awq::test::FixtureSpec spec;
    for (int i = 2; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--gqa"))
            spec.numKvHeads = 2;
        else if (!std::strcmp(argv[i], "--tied"))
            spec.tieWordEmbeddings = true;
        else if (!std::strcmp(argv[i], "--fp16"))
            spec.torchDtype = "float16";
        else if (!std::strcmp(argv[i], "--bf16"))
            spec.torchDtype = "bfloat16";
        else if (!std::strcmp(argv[i], "--no-add-bos"))
            spec.addBosToken = false;
        else if (!std::strcmp(argv[i], "--vocab") && i + 1 < argc)
            spec.vocabSize = std::atoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--favour") && i + 1 < argc)
            spec.favouredTokens.push_back(std::atoll(argv[++i]));
        else if (!std::strcmp(argv[i], "--arch") && i + 1 < argc)
            spec.modelType = argv[++i];
        else if (!std::strcmp(argv[i], "--layers") && i + 1 < argc)
            spec.numLayers = std::atoll(argv[++i]);
        else if (!std::strcmp(argv[i], "--tinyllama")) {
            spec.hiddenSize = 2048;
            spec.intermediateSize = 5632;
            spec.numLayers = 22;
            spec.numHeads = 32;
            spec.numKvHeads = 4;
            spec.vocabSize = 32000;
            spec.maxPositionEmbeddings = 2048;
            spec.torchDtype = "float16";
        }
        else {
            std::cerr << "awq_make_fixture: unknown option " << argv[i] << "\n";
            return 2;
        }
    }
    try {
        std::cout << awq::test::makeFixtureModel(argv[1], spec).string() << "\n";
    } catch (const std::exception &e) {
        std::cerr << "awq_make_fixture: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
