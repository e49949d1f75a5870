#!/usr/bin/env python3
"""AWQ Studio's logits against transformers' on random-init fixtures of every architecture (fp16).

For each architecture the engine runs, writes a fixture (tests/common: awq_make_fixture --arch A
--fp16), has awq_dump_logits run it on --device (the CUDA decoder on cuda:N: fp16 activations,
int4-free here) over fixed ids, and runs transformers on the same folder in fp16 and fp32 on the
GPU. The tolerance is transformers' own: our fp16 logits may differ from the fp32 reference by at
most 3x what transformers' fp16 forward differs from it (at least 1e-2 of the logit range).

  compare_transformers.py --bin build-gpu/bin --work /tmp/arch --device cuda:0 --json out.json --table out.md
  compare_transformers.py --bin build/bin --work /tmp/arch --device cpu --ours-only --table out.md   (no torch)
Exit status 1 when an architecture fails or cannot be run.
"""
import argparse
import json
import pathlib
import struct
import subprocess
import sys

ARCHITECTURES = [  # (model_type, awq_make_fixture flags)
    ("llama", ["--gqa"]),
    ("mistral", ["--gqa"]),
    ("qwen2", []),
    ("qwen3", ["--gqa"]),
    ("gemma", []),
    ("gemma2", ["--gqa"]),
    ("phi3", ["--gqa"]),
]
IDS = [1 + (i * 37) % 380 for i in range(24)]  # inside the fixture tokenizer's 384 pieces


def ours(bin_dir, folder, dump, device):
    result = subprocess.run([str(bin_dir / "awq_dump_logits"), str(folder), "--ids", ",".join(map(str, IDS)),
                             "--out", str(dump), "--device", device], capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(result.stderr.strip() or "awq_dump_logits failed")
    info = json.loads(result.stdout.strip().splitlines()[-1])
    data = dump.read_bytes()
    tokens, vocab = info["tokens"], info["vocab"]
    if len(data) != tokens * vocab * 4:
        raise RuntimeError(f"{dump}: {len(data)} bytes, expected {tokens} x {vocab} float32")
    return info, data


def transformers_logits(folder, dtype, device):
    import torch
    from transformers import AutoModelForCausalLM
    try:
        model = AutoModelForCausalLM.from_pretrained(folder, dtype=dtype, attn_implementation="eager")
    except TypeError:  # transformers < 4.56 names it torch_dtype
        model = AutoModelForCausalLM.from_pretrained(folder, torch_dtype=dtype, attn_implementation="eager")
    model = model.to(device).eval()
    with torch.no_grad():
        return model(torch.tensor([IDS], device=device)).logits[0].float()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", required=True, type=pathlib.Path, help="the build's bin folder")
    ap.add_argument("--work", required=True, type=pathlib.Path, help="scratch folder for the fixtures")
    ap.add_argument("--device", default="cuda:0")
    ap.add_argument("--json", type=pathlib.Path)
    ap.add_argument("--table", type=pathlib.Path)
    ap.add_argument("--ours-only", action="store_true", help="no transformers: dump and check our logits only")
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows, ok = [], True
    for arch, flags in ARCHITECTURES:
        folder = args.work / arch
        row = {"architecture": arch}
        try:
            subprocess.run([str(args.bin / "awq_make_fixture"), str(folder), "--arch", arch, "--fp16", *flags],
                           check=True, capture_output=True, text=True)
            info, data = ours(args.bin, folder, args.work / f"{arch}.logits", args.device)
            row.update(decoder=info["decoder"], tokens=info["tokens"], vocab=info["vocab"])
            if args.ours_only:
                values = struct.unpack(f"<{len(data) // 4}f", data)
                finite = all(v == v and abs(v) != float("inf") for v in values)
                row.update(max_abs_logit=max(abs(v) for v in values), finite=finite, passed=finite)
            else:
                import torch
                mine = torch.frombuffer(bytearray(data), dtype=torch.float32).view(info["tokens"], info["vocab"])
                mine = mine.to(args.device)
                ref16 = transformers_logits(folder, torch.float16, args.device)
                ref32 = transformers_logits(folder, torch.float32, args.device)
                scale = ref32.abs().max().item()
                ours_err = (mine - ref32).abs().max().item() / scale
                hf_err = (ref16 - ref32).abs().max().item() / scale
                row.update(rel_error_vs_fp32=ours_err, transformers_fp16_rel_error=hf_err,
                           max_abs_diff_vs_transformers_fp16=(mine - ref16).abs().max().item(),
                           top1_agreement_with_fp32=(mine.argmax(-1) == ref32.argmax(-1)).float().mean().item(),
                           passed=ours_err <= max(3 * hf_err, 1e-2))
        except Exception as e:  # one architecture's failure must not hide the others'
            row.update(error=str(e)[-400:], passed=False)
        ok = ok and row["passed"]
        rows.append(row)
        print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps({"device": args.device, "ids": IDS, "rows": rows}, indent=2) + "\n")
    if args.table:
        lines = []
        if args.ours_only:
            lines += ["| architecture | decoder | max |logit| | finite |", "|---|---|---|---|"]
            for r in rows:
                lines.append(f"| {r['architecture']} | {r.get('decoder', r.get('error', ''))} | "
                             f"{r.get('max_abs_logit', float('nan')):.3g} | {r.get('finite', False)} |")
        else:
            lines += ["| architecture | ours vs fp32 (rel) | transformers fp16 vs fp32 (rel) | max abs diff vs "
                      "transformers fp16 | top-1 agreement | pass |", "|---|---|---|---|---|---|"]
            for r in rows:
                if "error" in r:
                    lines.append(f"| {r['architecture']} | error: {r['error']} | | | | no |")
                    continue
                lines.append(f"| {r['architecture']} | {r['rel_error_vs_fp32']:.2e} | "
                             f"{r['transformers_fp16_rel_error']:.2e} | {r['max_abs_diff_vs_transformers_fp16']:.3g} | "
                             f"{100 * r['top1_agreement_with_fp32']:.0f} % | {'yes' if r['passed'] else '**no**'} |")
        args.table.write_text("\n".join(lines) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
