# User-facing build options. The engine, CLI and tests never need the GUI.
option(AWQ_BUILD_GUI "Build the Qt Widgets application awq-studio" ON)
option(AWQ_BUILD_TESTS "Build the Qt Test suites (needs Qt6 Core and Test, not Widgets)" ${PROJECT_IS_TOP_LEVEL})
set(AWQ_ENABLE_CUDA "AUTO" CACHE STRING "Compile the CUDA kernels: AUTO (when nvcc is found), ON or OFF")
set_property(CACHE AWQ_ENABLE_CUDA PROPERTY STRINGS AUTO ON OFF)
option(AWQ_WARNINGS_AS_ERRORS "Treat compiler warnings as errors" OFF)

if(NOT CMAKE_BUILD_TYPE AND NOT CMAKE_CONFIGURATION_TYPES)
    set(CMAKE_BUILD_TYPE Release CACHE STRING "Build type" FORCE)
endif()
set(CMAKE_CXX_STANDARD 17)
set(CMAKE_CXX_STANDARD_REQUIRED ON)
set(CMAKE_CXX_EXTENSIONS OFF)
set(CMAKE_POSITION_INDEPENDENT_CODE ON)
set(CMAKE_EXPORT_COMPILE_COMMANDS ON)
include(GNUInstallDirs)

# Note [no copy relocations]: executables are compiled with -fPIC, not -fPIE. With -fPIE
# the linker copies data such as std::cout/std::cerr into the executable (copy
# relocations); libawq_spm.so is dlopen'ed with RTLD_DEEPBIND and would then bind to
# libstdc++'s own, never-constructed objects and crash on its first log line.
# Qt-linked targets get -fPIC from Qt anyway; this makes the rest match.
add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fPIC>)

# Sanitizers for every target (the asan preset: AWQ_SANITIZE=address,undefined).
# UBSan findings stop the run (-fno-sanitize-recover) so that CTest reports them.
# vptr is left out: LibTorch is built without UBSan and its classes' type info
# makes the vptr check report false positives across the library boundary.
set(AWQ_SANITIZE "" CACHE STRING "Comma-separated -fsanitize= list for every target (empty: none)")
if(AWQ_SANITIZE)
    add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fsanitize=${AWQ_SANITIZE}>
                        $<$<COMPILE_LANGUAGE:CXX>:-fno-omit-frame-pointer>
                        $<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize=vptr>)
    if(AWQ_SANITIZE MATCHES "undefined")
        add_compile_options($<$<COMPILE_LANGUAGE:CXX>:-fno-sanitize-recover=undefined>)
    endif()
    add_link_options(-fsanitize=${AWQ_SANITIZE})
endif()

# libFuzzer targets under tests/fuzz (clang only; see docs/reliability.md).
option(AWQ_BUILD_FUZZERS "Build the libFuzzer targets in tests/fuzz (needs clang)" OFF)
