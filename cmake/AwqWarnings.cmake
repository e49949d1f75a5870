# awq_warnings: an INTERFACE target carrying the project's warning flags.
add_library(awq_warnings INTERFACE)
target_compile_options(awq_warnings INTERFACE
    $<$<COMPILE_LANGUAGE:CXX>:-Wall -Wextra -Wno-unused-parameter>
    $<$<AND:$<COMPILE_LANGUAGE:CXX>,$<BOOL:${AWQ_WARNINGS_AS_ERRORS}>>:-Werror>)
