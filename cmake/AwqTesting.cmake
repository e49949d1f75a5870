# awq_add_qtest(NAME <name> SOURCES <files...> [LIBS <targets...>] [LABELS <labels...>] [TIMEOUT <s>])
# One Qt Test executable per area, registered with CTest. GUI tests run offscreen.
function(awq_add_qtest)
    cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;LABELS" ${ARGN})
    add_executable(${T_NAME} ${T_SOURCES})
    # Tests work on tensors: LibTorch's headers come with them (the UI library itself has none).
    target_link_libraries(${T_NAME} PRIVATE Qt6::Core Qt6::Test awq_warnings ${T_LIBS} ${TORCH_LIBRARIES})
    target_compile_definitions(${T_NAME} PRIVATE QT_NO_KEYWORDS
        AWQ_SOURCE_DIR="${PROJECT_SOURCE_DIR}" AWQ_BINARY_DIR="${PROJECT_BINARY_DIR}")
    set_target_properties(${T_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bin)
    add_test(NAME ${T_NAME} COMMAND ${T_NAME})
    if(NOT T_TIMEOUT)
        set(T_TIMEOUT 600)
    endif()
    set_tests_properties(${T_NAME} PROPERTIES
        LABELS "${T_LABELS}"
        TIMEOUT ${T_TIMEOUT}
        ENVIRONMENT "QT_QPA_PLATFORM=offscreen;AWQ_TEST_TMP=${CMAKE_BINARY_DIR}/test-tmp;XDG_CONFIG_HOME=${CMAKE_BINARY_DIR}/test-tmp/config")
endfunction()
