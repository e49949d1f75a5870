// awq_make_fixture FOLDER [--gqa] [--tied] [--fp16]: writes a tiny random Llama
// model folder (used by the CLI smoke test and handy for trying the tools).

#include <cstring>
#include <iostream>

#include "awq/core/error.h"
#include "fixture_model.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        std::cerr << "usage: awq_make_fixture FOLDER [--gqa] [--tied] [--fp16]\n";
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
