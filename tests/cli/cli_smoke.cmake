# The awq command-line tool driven as a user would: a fixture model is written, then
# info / generate / perplexity / quantize / bench run on it, and bad input must fail with one clear line.
# Invoked by CTest: cmake -DAWQ=... -DFIXTURE_TOOL=... -DWORK=... -P cli_smoke.cmake

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}")

function(run_ok)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(NOT rc EQUAL 0)
        message(FATAL_ERROR "command failed (${rc}): ${ARGN}\nstdout: ${out}\nstderr: ${err}")
    endif()
    set(OUT "${out}" PARENT_SCOPE)
    set(ERR "${err}" PARENT_SCOPE)
endfunction()

function(run_fails expected_rc pattern)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
    if(rc EQUAL 0 OR NOT rc EQUAL expected_rc)
        message(FATAL_ERROR "expected exit ${expected_rc}, got ${rc}: ${ARGN}\nstdout: ${out}\nstderr: ${err}")
    endif()
    if(NOT err MATCHES "${pattern}")
        message(FATAL_ERROR "stderr does not match '${pattern}': ${err}")
    endif()
    # Exactly one error line (progress lines of a long job may come before it).
    string(REGEX MATCHALL "error:" errors "${err}")
    list(LENGTH errors n)
    if(NOT n EQUAL 1)
        message(FATAL_ERROR "expected one error line, got ${n}:\n${err}")
    endif()
endfunction()

set(model "${WORK}/model")
run_ok(${FIXTURE_TOOL} ${model} --gqa --fp16)

run_ok(${AWQ} --version)
if(NOT OUT MATCHES "^awq [0-9]+\\.[0-9]+")
    message(FATAL_ERROR "bad --version output: ${OUT}")
endif()
foreach(cmd info generate perplexity quantize bench serve)
    run_ok(${AWQ} ${cmd} --help)
    if(NOT OUT MATCHES "usage: awq ${cmd}")
        message(FATAL_ERROR "awq ${cmd} --help: ${OUT}")
    endif()
endforeach()

run_ok(${AWQ} info ${model})
if(NOT OUT MATCHES "llama" OR NOT OUT MATCHES "KV heads 2, GQA")
    message(FATAL_ERROR "awq info output: ${OUT}")
endif()
run_ok(${AWQ} info ${model} --json)
if(NOT OUT MATCHES "\"num_hidden_layers\": 2")
    message(FATAL_ERROR "awq info --json output: ${OUT}")
endif()

run_ok(${AWQ} generate ${model} --prompt "The old sailor" --max-new-tokens 16 --ignore-eos --threads 2)
if(NOT OUT MATCHES "^The old sailor" OR NOT ERR MATCHES "generated 16 tokens at [0-9.]+ tok/s")
    message(FATAL_ERROR "awq generate: stdout ${OUT} stderr ${ERR}")
endif()
run_ok(${AWQ} generate ${model} --prompt "A tired traveller" --temperature 0.8 --top-k 40 --top-p 0.9
       --repetition-penalty 1.1 --seed 3 --max-new-tokens 8)

file(WRITE "${WORK}/eval.txt" "The old sailor walked along the long road before the rain began. ")
foreach(i RANGE 6)
    file(APPEND "${WORK}/eval.txt" "A young teacher looked at a bright window while the bells rang. My neighbour opened the heavy door and smiled. ")
endforeach()
run_ok(${AWQ} perplexity ${model} --text "${WORK}/eval.txt" --seqlen 32)
if(NOT OUT MATCHES "perplexity: [0-9.]+ \\([0-9]+ windows of 32 tokens")
    message(FATAL_ERROR "awq perplexity output: ${OUT}")
endif()

# One BOS rule for generate and perplexity: the model's own default (add_bos_token), with
# --bos / --no-bos to override. The same text gives the same prompt length in both.
file(WRITE "${WORK}/bos.txt" "The old sailor walked along the long road before the rain began. A young teacher looked at a bright window while the bells rang.")
file(READ "${WORK}/bos.txt" bos_text)
set(nobos_model "${WORK}/model-no-bos")
run_ok(${FIXTURE_TOOL} ${nobos_model} --no-add-bos)
function(prompt_tokens var)
    run_ok(${AWQ} generate ${ARGN} --prompt "${bos_text}" --max-new-tokens 1 --threads 2)
    string(REGEX MATCH "prompt ([0-9]+) tokens" _ "${ERR}")
    set(gen ${CMAKE_MATCH_1})
    run_ok(${AWQ} perplexity ${ARGN} --text "${WORK}/bos.txt" --seqlen 8 --threads 2)
    string(REGEX MATCH "; ([0-9]+) tokens in the text" _ "${OUT}")
    if(NOT gen OR NOT gen EQUAL CMAKE_MATCH_1)
        message(FATAL_ERROR "BOS differs: generate ${ARGN} gives a ${gen}-token prompt, perplexity ${CMAKE_MATCH_1} tokens")
    endif()
    set(${var} ${gen} PARENT_SCOPE)
endfunction()
prompt_tokens(with_bos ${model})
prompt_tokens(forced_off ${model} --no-bos)
prompt_tokens(without_bos ${nobos_model})
prompt_tokens(forced_on ${nobos_model} --bos)
math(EXPR expected_without "${with_bos} - 1")
if(NOT forced_off EQUAL expected_without OR NOT without_bos EQUAL expected_without OR NOT forced_on EQUAL with_bos)
    message(FATAL_ERROR "BOS rule: add_bos_token true ${with_bos}, --no-bos ${forced_off}, add_bos_token false "
                        "${without_bos}, --bos ${forced_on} (expected ${with_bos}/${expected_without})")
endif()
run_fails(2 "--bos and --no-bos contradict" ${AWQ} generate ${model} --prompt hi --bos --no-bos)

# Embedding rows padded past the tokenizer (vocab_size 448 over 384 tokens) that win every
# step are never sampled: generation goes on and exits 0.
set(padded_model "${WORK}/model-padded")
run_ok(${FIXTURE_TOOL} ${padded_model} --vocab 448 --favour 440)
run_ok(${AWQ} generate ${padded_model} --prompt "The old sailor" --max-new-tokens 8 --ignore-eos --threads 2)
if(NOT ERR MATCHES "generated 8 tokens")
    message(FATAL_ERROR "awq generate on a padded vocabulary: stdout ${OUT} stderr ${ERR}")
endif()

# Quantize the fixture (group 32: its hidden size is 64) and run the result.
file(WRITE "${WORK}/calib.txt" "")
foreach(i RANGE 80)
    file(APPEND "${WORK}/calib.txt" "The old sailor ${i} walked along the long road before the rain began.\n")
endforeach()
run_ok(${AWQ} quantize ${model} --out "${WORK}/awq" --group-size 32 --calib "${WORK}/calib.txt" --seq-len 64
       --threads 2)
if(NOT OUT MATCHES "wrote .*/awq" OR NOT ERR MATCHES "scale search" OR NOT ERR MATCHES "RTN loss")
    message(FATAL_ERROR "awq quantize: stdout ${OUT} stderr ${ERR}")
endif()
run_ok(${AWQ} info "${WORK}/awq")
if(NOT OUT MATCHES "AWQ 4-bit, group 32, zero point, GEMM")
    message(FATAL_ERROR "awq info on the quantized model: ${OUT}")
endif()
run_ok(${AWQ} perplexity "${WORK}/awq" --text "${WORK}/eval.txt" --seqlen 32)
# The fused decoder (what chat and generate run) scores the same windows; --lm-head int8 is
# accepted (this model's hidden size of 64 keeps the fp16 head: int8 needs multiples of 128).
run_ok(${AWQ} perplexity "${WORK}/awq" --text "${WORK}/eval.txt" --seqlen 32 --engine fused --lm-head int8)
if(NOT OUT MATCHES "perplexity: [0-9.]+ \\([0-9]+ windows of 32 tokens")
    message(FATAL_ERROR "awq perplexity --engine fused output: ${OUT}")
endif()
run_fails(2 "unknown lm_head format 'int4' \\(expected source or int8\\)" ${AWQ} generate "${WORK}/awq" --prompt hi
          --lm-head int4)
run_ok(${AWQ} quantize ${model} --out "${WORK}/rtn-w3" --method rtn --w-bit 3 --group-size 32 --fake-quant)

# The benchmark on a synthetic model of the "tiny" shape: AutoAWQ's table on stdout, the
# report as JSON (one row per build) and CSV.
run_ok(${AWQ} bench --synthetic tiny --batch 1 --prefill 16 --decode 4 --repeats 1 --threads 2
       --json "${WORK}/bench.json" --csv "${WORK}/bench.csv")
if(NOT OUT MATCHES "\\| Version \\| Batch Size \\| Prefill Length" OR NOT OUT MATCHES "\\| GEMV ")
    message(FATAL_ERROR "awq bench output: ${OUT}")
endif()
if(NOT EXISTS "${WORK}/bench.json" OR NOT EXISTS "${WORK}/bench.csv")
    message(FATAL_ERROR "awq bench did not write bench.json and bench.csv: ${ERR}")
endif()
file(READ "${WORK}/bench.json" bench_json)
string(JSON bench_rows LENGTH "${bench_json}" rows)
string(JSON bench_tps GET "${bench_json}" rows 0 decode_tokens_per_second)
if(NOT bench_rows EQUAL 3 OR NOT bench_tps GREATER 0)
    message(FATAL_ERROR "bench.json: ${bench_rows} rows, decode tokens/s ${bench_tps}")
endif()

# Bad input: one clear line on stderr, non-zero exit.
run_fails(1 "no such folder" ${AWQ} info "${WORK}/does-not-exist")
run_fails(2 "unknown synthetic shape 'gpt-9' \\(known shapes: tiny, tinyllama-1.1b" ${AWQ} bench --synthetic gpt-9)
run_fails(2 "unknown variant 'int8'" ${AWQ} bench --synthetic tiny --variants fp32,int8)
run_fails(2 "not both" ${AWQ} bench ${model} --synthetic tiny)
run_fails(2 "--prompt is required" ${AWQ} generate ${model})
run_fails(2 "--temperature must be in" ${AWQ} generate ${model} --prompt hi --temperature -1)
run_fails(2 "unknown option --bogus" ${AWQ} generate ${model} --prompt hi --bogus 3)
run_fails(2 "fewer than one window" ${AWQ} perplexity ${model} --text "${WORK}/eval.txt" --seqlen 4000)
run_fails(1 "cannot be opened" ${AWQ} perplexity ${model} --text "${WORK}/missing.txt")
file(WRITE "${WORK}/broken/config.json" "{\"model_type\": \"gpt2\"}")
run_fails(1 "model_type 'gpt2' is not supported; supported model types: llama, mistral, qwen2"
          ${AWQ} generate "${WORK}/broken" --prompt hi)
run_fails(2 "the AWQ checkpoint formats are 4-bit" ${AWQ} quantize ${model} --out "${WORK}/w3" --w-bit 3
          --group-size 32 --calib "${WORK}/calib.txt")
run_fails(2 "exists and is not empty" ${AWQ} quantize ${model} --out "${WORK}/awq" --group-size 32
          --calib "${WORK}/calib.txt")
run_fails(1 "calibration file not found" ${AWQ} quantize ${model} --out "${WORK}/x" --group-size 32
          --calib "${WORK}/no-such.txt")
run_fails(2 "yields no calibration block" ${AWQ} quantize ${model} --out "${WORK}/x" --group-size 32
          --calib "${WORK}/calib.txt" --seq-len 256 --n-samples 2)
if(EXISTS "${WORK}/x" OR EXISTS "${WORK}/w3")
    message(FATAL_ERROR "a failed quantization left an output folder")
endif()
message(STATUS "cli_smoke: all checks passed")
