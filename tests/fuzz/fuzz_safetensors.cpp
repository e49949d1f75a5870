// libFuzzer: SafetensorsFile::open on arbitrary bytes; every tensor it accepts is then
// viewed and read in full, so an accepted header must describe bytes inside the file.
#include <ATen/ATen.h>

#include "awq/core/error.h"
#include "awq/io/safetensors.h"
#include "fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const FuzzInputFile input(data, size, "fuzz.safetensors");
    try {
        auto file = awq::SafetensorsFile::open(input.path());
        for (const std::string &name : file->names()) {
            const awq::TensorInfo &info = file->info(name);
            if (info.byteSize > (64u << 20))
                continue;
            at::Tensor t = file->view(name);
            if (static_cast<uint64_t>(t.nbytes()) != info.byteSize)
                std::abort(); // the view must cover exactly the stored bytes
            (void)file->load(name, t.scalar_type()).numel();
        }
    } catch (const awq::Error &) {
    }
    return 0;
}
