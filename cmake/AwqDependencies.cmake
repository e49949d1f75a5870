# Third-party dependencies, all from Debian packages (see scripts/setup-deps.sh).
find_package(Threads REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)

# LibTorch: Debian's libtorch-dev (CPU) or the one inside a PyTorch install
# (CUDA): pass -DCMAKE_PREFIX_PATH=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)').
find_package(Torch REQUIRED)
# TorchConfig adds its flags to CMAKE_CXX_FLAGS; keep our own standard.
set(AWQ_TORCH_HAS_CUDA OFF)
if(TARGET torch_cuda OR TORCH_CUDA_LIBRARIES)
    set(AWQ_TORCH_HAS_CUDA ON)
endif()

# OpenMP: at::parallel_for is an inline template that forks only when the file calling it is
# compiled with OpenMP (ATen's ParallelOpenMP.h tests _OPENMP); without it every parallel
# loop of the engine runs on one thread, whatever at::set_num_threads says. The runtime is
# the libgomp LibTorch itself uses. clang without libomp (the fuzz build) goes without.
find_package(OpenMP)
if(NOT OpenMP_CXX_FOUND)
    message(WARNING "OpenMP not found for ${CMAKE_CXX_COMPILER_ID}: the engine's parallel loops will run on one thread")
endif()

# sentencepiece is linked only into the isolated shim library (tokenizer/spm_shim),
# never into a target that also links LibTorch: see Note [sentencepiece isolation].
find_package(PkgConfig REQUIRED)
pkg_check_modules(SENTENCEPIECE REQUIRED IMPORTED_TARGET sentencepiece)
# cpp-httplib (libcpp-httplib-dev): the HTTP side of `awq serve` (server/). Its .pc file carries the
# CPPHTTPLIB_*_SUPPORT definitions the Debian library was built with; they change its classes' layout.
pkg_check_modules(HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib)

if(AWQ_BUILD_GUI)
    find_package(Qt6 6.2 REQUIRED COMPONENTS Core Gui Widgets Charts)
endif()
if(AWQ_BUILD_TESTS)
    find_package(Qt6 6.2 REQUIRED COMPONENTS Core Test)
endif()
if(AWQ_BUILD_GUI OR AWQ_BUILD_TESTS)
    set(CMAKE_AUTOMOC ON)
endif()
