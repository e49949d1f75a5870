# Packaging: a .deb and a .tar.gz of what `cmake --install` puts under a prefix.
#   cmake --build build --target package      (both; or: cd build && cpack -G DEB)
# Layout under the prefix (/usr for the .deb):
#   bin/awq, bin/awq-studio
#   lib/awq-studio/libawq_spm.so              the sentencepiece shim, dlopen()ed from
#                                             <exe>/../lib/awq-studio (tokenizer/spm_loader.cpp)
#   share/awq-studio/{models/demo-llama,text} bundled data, found at <exe>/../share/awq-studio
#                                             (runtime/resources.cpp), so the tree is relocatable
#   share/applications, share/icons/hicolor/scalable/apps, share/metainfo, share/man/man1,
#   share/doc/awq-studio                      desktop integration and documentation
# No RPATH is needed: the programs link only system libraries (LibTorch, Qt from Debian), and
# the one private library is opened by path. CMake strips the build RPATH at install.
# tests/package/package_test.sh builds the .deb, runs lintian on it and runs it from a scratch root.

set(_awq_installer_dir "${CMAKE_CURRENT_LIST_DIR}")
set(_awq_installer_out "${CMAKE_BINARY_DIR}/installer")
set(_awq_datadir "${CMAKE_INSTALL_DATADIR}/awq-studio")
set(_awq_docdir "${CMAKE_INSTALL_DATADIR}/doc/awq-studio")

set(AWQ_PACKAGE_CONTACT "AWQ Studio developers <awq-studio@example.org>" CACHE STRING
    "Maintainer of the Debian package (name <address>)")

# Bundled data. The demo model's folder is the model as `awq train` wrote it, plus its card.
install(DIRECTORY "${PROJECT_SOURCE_DIR}/resources/models/demo-llama"
        DESTINATION "${_awq_datadir}/models")
install(DIRECTORY "${PROJECT_SOURCE_DIR}/resources/text"
        DESTINATION "${_awq_datadir}")

# Documentation that Debian wants compressed (gzip -9n: reproducible, maximal compression).
set(CPACK_DEBIAN_PACKAGE_VERSION "${PROJECT_VERSION}")
configure_file("${_awq_installer_dir}/changelog.in" "${_awq_installer_out}/changelog" @ONLY)
find_program(AWQ_GZIP gzip REQUIRED)
set(_awq_gz_outputs)
foreach(_src IN ITEMS "${_awq_installer_dir}/awq.1" "${_awq_installer_dir}/awq-studio.1"
                      "${_awq_installer_out}/changelog")
    get_filename_component(_name "${_src}" NAME)
    set(_copy "${_awq_installer_out}/gz/${_name}")
    add_custom_command(OUTPUT "${_copy}.gz"
        COMMAND ${CMAKE_COMMAND} -E make_directory "${_awq_installer_out}/gz"
        COMMAND ${CMAKE_COMMAND} -E copy "${_src}" "${_copy}"
        COMMAND "${AWQ_GZIP}" -9nf "${_copy}"
        DEPENDS "${_src}" VERBATIM)
    list(APPEND _awq_gz_outputs "${_copy}.gz")
endforeach()
add_custom_target(awq_package_docs ALL DEPENDS ${_awq_gz_outputs})
install(FILES "${_awq_installer_out}/gz/awq.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
install(FILES "${_awq_installer_out}/gz/changelog.gz" "${_awq_installer_dir}/copyright"
        DESTINATION "${_awq_docdir}")

# Desktop integration (for the GUI build).
if(AWQ_BUILD_GUI)
    install(FILES "${_awq_installer_out}/gz/awq-studio.1.gz" DESTINATION "${CMAKE_INSTALL_MANDIR}/man1")
    install(FILES "${_awq_installer_dir}/awq-studio.desktop"
            DESTINATION "${CMAKE_INSTALL_DATADIR}/applications")
    install(FILES "${_awq_installer_dir}/awq-studio.svg"
            DESTINATION "${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps")
    install(FILES "${_awq_installer_dir}/org.awqstudio.AwqStudio.metainfo.xml"
            DESTINATION "${CMAKE_INSTALL_DATADIR}/metainfo")
endif()

set(CPACK_PACKAGE_NAME "awq-studio")
set(CPACK_PACKAGE_VENDOR "AWQ Studio")
set(CPACK_PACKAGE_CONTACT "${AWQ_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "4-bit AWQ quantization of LLMs, with an int4 CPU inference engine")
set(CPACK_PACKAGE_DESCRIPTION
"AWQ Studio quantizes Llama-family language models (Llama, Mistral, Qwen2) in
Hugging Face folders to 4 bits with Activation-aware Weight Quantization, and
writes checkpoints in the format AutoAWQ, transformers and vLLM load. It runs
full-precision and AWQ models on the CPU with int4 kernels.
.
This package holds the desktop application awq-studio (quantization wizard,
chat, benchmark dashboard), the command-line tool awq (info, generate,
perplexity, quantize, bench, train) and a small bundled demo model, so that
everything works with no download.")
set(CPACK_GENERATOR "DEB;TGZ")
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)            # awq-studio_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "science")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_COMPRESSION_TYPE "xz")

# Dependencies. dpkg-shlibdeps (CPACK_DEBIAN_PACKAGE_SHLIBDEPS) derives the versioned ones from
# what the binaries and the shim link (libc6, libstdc++6, libtorch1.13, libqt6*, libsentencepiece0,
# libcpp-httplib0.11 for awq serve);
# the list below adds what nothing links and the programs still need:
#   libsentencepiece0     libawq_spm.so needs it, and the shim is dlopen()ed, never linked
#   libopenblas0-openmp   the BLAS LibTorch should get through libblas.so.3: reference BLAS is
#                         ~20x slower, and the pthreads OpenBLAS (the higher-priority
#                         alternative when both are installed) fights the engine's OpenMP
#                         threads for the cores; `awq bench` names the BLAS it finds
#   qt6-qpa-plugins       Qt's xcb/wayland platform plugins, loaded at run time
# Without dpkg-shlibdeps and file(1) (dpkg-dev, file) the linked libraries are listed by hand.
set(_awq_depends "libsentencepiece0, libopenblas0-openmp")
if(AWQ_BUILD_GUI)
    string(APPEND _awq_depends ", qt6-qpa-plugins")
endif()
find_program(AWQ_DPKG_SHLIBDEPS dpkg-shlibdeps)
find_program(AWQ_FILE_TOOL file)
if(AWQ_DPKG_SHLIBDEPS AND AWQ_FILE_TOOL)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
else()
    message(STATUS "dpkg-shlibdeps or file not found: the .deb's library dependencies are listed by hand")
    string(APPEND _awq_depends ", libc6, libstdc++6, libgcc-s1, libtorch1.13, libcpp-httplib0.11")
    if(AWQ_BUILD_GUI)
        string(APPEND _awq_depends ", libqt6core6, libqt6gui6, libqt6widgets6, libqt6charts6")
    endif()
endif()
set(CPACK_DEBIAN_PACKAGE_DEPENDS "${_awq_depends}")

include(CPack)
