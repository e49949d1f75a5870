#!/usr/bin/python3
"""Prints the table of scripts/bench-vs-llamacpp.sh from its per-round JSON files.

Usage: summarize_vs_llamacpp.py RESULTS_DIR LLAMA_CPP_DIR [PREFILL_LENGTH (512)]

RESULTS_DIR holds, per round r: llama-<variant>-r<r>.json (llama-bench -o json),
awq-b1-<head>-r<r>.json (awq bench --batch 1 --prefill 16,512 --decode 64 --bandwidth
--lm-head <head>) and awq-b8-<head>-r<r>.json (awq bench --batch 8 --prefill 16 --decode 64),
and gguf-<variant>.path naming each GGUF file. Medians over rounds; the roofline of a decode
is the round's measured bandwidth divided by the bytes the engine reads per token (its
weights minus the token embedding table, of which a decode step reads one row; for ours the
bench's token_weight_bytes). The acceptance checks use our fastest batch-1 decode.
"""
import glob
import json
import os
import re
import statistics
import sys

results, llama_dir = sys.argv[1], sys.argv[2]
P = int(sys.argv[3]) if len(sys.argv) > 3 else 512
sys.path.insert(0, os.path.join(llama_dir, "gguf-py"))
from gguf import GGUFReader  # noqa: E402  (the bundle's own gguf-py)


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def rounds(pattern):
    found = {}
    for path in glob.glob(os.path.join(results, pattern)):
        found[int(re.search(r"-r(\d+)\.json$", path).group(1))] = load(path)
    return [found[k] for k in sorted(found)]


def med(values):
    return statistics.median(values) if values else float("nan")


def gguf_bytes_per_token(path):
    reader = GGUFReader(path)
    total = sum(int(t.n_bytes) for t in reader.tensors)
    embed = sum(int(t.n_bytes) for t in reader.tensors if t.name == "token_embd.weight")
    return total, total - embed


rows = []  # (label, weight bytes, bytes per token, prefill list, decode list)
# Streaming bandwidth per round, measured by each awq bench batch-1 run; a round's figure is
# the median of its runs (the machine's bandwidth drifts between phases, so a decode is set
# against the bandwidth measured seconds before it).
per_round_bw = {}
for path in glob.glob(os.path.join(results, "awq-b1-*-r*.json")):
    r = int(re.search(r"-r(\d+)\.json$", path).group(1))
    report = load(path)
    if report.get("bandwidth"):
        per_round_bw.setdefault(r, []).append(report["bandwidth"]["gb_per_second"])
round_bw = {r: statistics.median(v) for r, v in per_round_bw.items()}
bandwidths = [round_bw[r] for r in sorted(round_bw)]

for path_file in sorted(glob.glob(os.path.join(results, "gguf-*.path"))):
    variant = os.path.basename(path_file)[len("gguf-"):-len(".path")]
    with open(path_file, encoding="utf-8") as f:
        gguf = f.read().strip()
    total, per_token = gguf_bytes_per_token(gguf)
    prefill, decode = [], []
    for result in rounds(f"llama-{variant}-r*.json"):
        for test in result:
            if test.get("n_prompt") == P and test.get("n_gen") == 0:
                prefill.append(test["avg_ts"])
            if test.get("n_prompt") == 0 and test.get("n_gen") > 0:
                decode.append(test["avg_ts"])
    rows.append((f"llama.cpp {variant.upper()}", total, per_token, prefill, decode))


def awq_rows(pattern):
    """(total bytes, bytes per token, prefill-P list, decode list) over the rounds of one configuration."""
    total = per_token = 0
    prefill, decode = [], []
    for r in rounds(pattern):
        cfg = (r.get("model") or {}).get("config") or {}
        hidden, vocab = cfg.get("hidden_size", 2048), cfg.get("vocab_size", 32000)
        for row in r["rows"]:
            total = row["weight_bytes"]
            per_token = row.get("token_weight_bytes") or row["weight_bytes"] - 4 * hidden * vocab
            if row["prefill_length"] == P:
                prefill.append(row["prefill_tokens_per_second"])
            else:
                decode.append(row["decode_tokens_per_second"])
    return total, per_token, prefill, decode


heads = sorted({re.match(r"awq-b1-(.+)-r\d+\.json$", os.path.basename(p)).group(1)
                for p in glob.glob(os.path.join(results, "awq-b1-*-r*.json"))})
ours_labels = []
for head in heads:
    label = f"AWQ Studio int4 g128 (GEMV packing), lm_head {'fp16' if head == 'source' else head}"
    ours_labels.append(label)
    total, per_token, prefill, decode = awq_rows(f"awq-b1-{head}-r*.json")
    rows.append((label, total, per_token, prefill, decode))
b8_heads = sorted({re.match(r"awq-b8-(.+)-r\d+\.json$", os.path.basename(p)).group(1)
                   for p in glob.glob(os.path.join(results, "awq-b8-*-r*.json"))})
decode8 = {head: awq_rows(f"awq-b8-{head}-r*.json")[3] for head in b8_heads}

bw = med(bandwidths)
print()
n_rounds = len(glob.glob(os.path.join(results, "llama-q4_0-r*.json")))
print(f"Medians of {n_rounds} interleaved rounds; streaming read bandwidth {bw:.1f} GB/s "
      f"(per round: {', '.join(f'{b:.1f}' for b in bandwidths)})")
print()
print(f"| engine, weights | file / memory | read per token | prefill-{P} tok/s | decode tok/s | decode roofline | "
      "decode % of roofline (median bandwidth / per round) | per round (prefill / decode) |")
print("|---|---:|---:|---:|---:|---:|---:|---|")
summary = {}
for label, total, per_token, pf, dc in rows:
    roof = bw * 1e9 / per_token if per_token else float("nan")
    # Each round's decode against that round's own bandwidth, then the median over rounds.
    fractions = [d / (round_bw[r] * 1e9 / per_token) for r, d in zip(sorted(round_bw), dc)] if per_token else []
    summary[label] = (med(pf), med(dc), roof, med(fractions))
    per_round = "; ".join(f"{p:.1f} / {d:.1f}" for p, d in zip(pf, dc))
    print(f"| {label} | {total / 2**20:.0f} MiB | {per_token / 1e9:.3f} GB | {med(pf):.1f} | {med(dc):.1f} | "
          f"{roof:.1f} | {100 * med(dc) / roof:.0f} % / {100 * med(fractions):.0f} % | {per_round} |")
for head, values in decode8.items():
    print(f"| AWQ Studio, batch 8 decode, lm_head {'fp16' if head == 'source' else head} | | | | {med(values):.1f} | | | "
          f"{'; '.join(f'{d:.1f}' for d in values)} |")
print()

q4 = summary.get("llama.cpp Q4_0")
best = max(ours_labels, key=lambda label: summary[label][1])
ours = summary[best]
print(f"Checks against the issue's acceptance, with our fastest batch-1 decode ({best}):")
checks = []
if q4:
    checks.append((f"prefill-{P} >= llama.cpp Q4_0: {ours[0]:.1f} vs {q4[0]:.1f} ({ours[0] / q4[0]:.2f}x)",
                   ours[0] >= q4[0]))
    q4_rounds = next(dc for label, _, _, _, dc in rows if label == "llama.cpp Q4_0")
    ours_rounds = next(dc for label, _, _, _, dc in rows if label == best)
    ratios = [a / b for a, b in zip(ours_rounds, q4_rounds) if b > 0]
    checks.append((f"decode >= 1.2x llama.cpp Q4_0 (ratio of the medians): {ours[1]:.1f} vs {q4[1]:.1f} "
                   f"({ours[1] / q4[1]:.2f}x; per round: {', '.join(f'{x:.2f}' for x in ratios)})",
                   ours[1] >= 1.2 * q4[1]))
checks.append((f"decode >= 70 % of roofline, each round against its own bandwidth: median {100 * ours[3]:.0f} % "
                f"(against the median bandwidth: {100 * ours[1] / ours[2]:.0f} % of {ours[2]:.1f} tok/s)",
               ours[3] >= 0.7))
head = best.rsplit("lm_head ", 1)[1]
head = "source" if head == "fp16" else head
if decode8.get(head):
    d8 = med(decode8[head])
    checks.append((f"batch-8 decode >= 2x batch 1 (same lm_head): {d8:.1f} vs {ours[1]:.1f} ({d8 / ours[1]:.2f}x)",
                   d8 >= 2 * ours[1]))
for text, ok in checks:
    print(f"  [{'met' if ok else 'NOT met'}] {text}")
