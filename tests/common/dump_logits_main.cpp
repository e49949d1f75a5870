// awq_dump_logits MODEL --ids 1,2,3 --out FILE [--device cpu|cuda:N] [--engine fused|reference]:
// runs the model over the ids from an empty context on the decoder `awq generate` would use
// and writes the logits of every position as raw little-endian float32 [tokens][vocab] to FILE,
// then prints one JSON line {"tokens", "vocab", "decoder"}. scripts/gpu/compare_transformers.py
// compares them with transformers' logits of the same ids.

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/runtime/decoder_model.h"
#include "awq/runtime/devices.h"
#include "awq/runtime/loaded_model.h"

int main(int argc, char **argv)
{
    if (argc < 2 || argv[1][0] == '-') {
        std::cerr << "usage: awq_dump_logits MODEL --ids 1,2,3 --out FILE [--device cpu|cuda:N] [--engine fused|reference]\n";
        return 2;
    }
    std::string ids, out, device = "cpu", engine = "fused";
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        if (key == "--ids")
            ids = argv[i + 1];
        else if (key == "--out")
            out = argv[i + 1];
        else if (key == "--device")
            device = argv[i + 1];
        else if (key == "--engine")
            engine = argv[i + 1];
        else {
            std::cerr << "awq_dump_logits: unknown option " << key << "\n";
            return 2;
        }
    }
    try {
        AWQ_CHECK(!ids.empty() && !out.empty(), InvalidArgument, "--ids and --out are required");
        AWQ_CHECK(engine == "fused" || engine == "reference", InvalidArgument, "--engine must be fused or reference");
        std::vector<int64_t> tokens;
        std::stringstream list(ids);
        for (std::string item; std::getline(list, item, ',');)
            tokens.push_back(std::stoll(item));
        awq::checkDevice(device);
        const awq::DecoderKind kind = engine == "fused" ? awq::DecoderKind::Fused : awq::DecoderKind::Reference;
        awq::LoadedModel loaded = awq::loadModel(argv[1], awq::loadTargetFor(device, kind));
        const int64_t vocab = loaded.config.vocabSize;
        c10::InferenceMode inference;
        auto decoder = awq::makeDecoderOn(device, std::move(loaded.model), kind, /*gemvLayout=*/false, 1,
                                        static_cast<int64_t>(tokens.size()));
        const at::Tensor input = at::tensor(tokens, at::kLong).unsqueeze(0);
        const at::Tensor logits = decoder->score(input).to(at::kCPU, at::kFloat).contiguous();
        std::ofstream file(out, std::ios::binary);
        file.write(reinterpret_cast<const char *>(logits.data_ptr<float>()), static_cast<std::streamsize>(logits.nbytes()));
        AWQ_CHECK(file.good(), Io, out, ": cannot be written");
        std::printf("{\"tokens\": %zu, \"vocab\": %lld, \"decoder\": \"%s\"}\n", tokens.size(), static_cast<long long>(vocab),
                    decoder->describe().c_str());
    } catch (const std::exception &e) {
        std::cerr << "awq_dump_logits: " << e.what() << "\n";
        return 1;
    }
    return 0;
}
