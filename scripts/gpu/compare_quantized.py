#!/usr/bin/env python3
"""Compares two AWQ outputs of the same model (awq quantize --device cpu vs --device cuda:N).

Packed tensors (qweight, qzeros) are compared code by code (4-bit nibbles), scales and every
other tensor by value. The GPU run sums in a different order, so a scale or clip choice that is
a near-tie may flip and change that group's codes: the check passes when at least 99 % of the
codes are equal and the scales agree to fp16 rounding where the codes do.

  compare_quantized.py OUT_CPU OUT_GPU       (needs numpy; exit status 1 on a mismatch)
"""
import json
import pathlib
import struct
import sys

import numpy as np

DTYPES = {"F16": np.float16, "F32": np.float32, "BF16": np.uint16, "I32": np.int32, "I64": np.int64, "U8": np.uint8}


def tensors(folder):
    out = {}
    for path in sorted(pathlib.Path(folder).glob("*.safetensors")):
        raw = path.read_bytes()
        size = struct.unpack("<Q", raw[:8])[0]
        header = json.loads(raw[8:8 + size])
        base = 8 + size
        for name, info in header.items():
            if name == "__metadata__":
                continue
            begin, end = info["data_offsets"]
            out[name] = np.frombuffer(raw[base + begin:base + end], dtype=DTYPES[info["dtype"]]).reshape(info["shape"])
    return out


def nibbles(words):
    w = words.astype(np.uint32)
    return np.stack([(w >> (4 * i)) & 0xF for i in range(8)], axis=-1)


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        return 2
    a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
    if sorted(a) != sorted(b):
        print(f"tensor names differ: {sorted(set(a) ^ set(b))[:5]}")
        return 1
    codes = codes_equal = 0
    scale_values = scale_exact = 0
    worst_scale = worst_other = 0.0
    for name in sorted(a):
        x, y = a[name], b[name]
        if x.shape != y.shape:
            print(f"{name}: shapes {x.shape} vs {y.shape}")
            return 1
        if name.endswith(".qweight") or name.endswith(".qzeros"):
            nx, ny = nibbles(x), nibbles(y)
            codes += nx.size
            codes_equal += int((nx == ny).sum())
        elif name.endswith(".scales"):
            fx, fy = x.astype(np.float64), y.astype(np.float64)
            scale_values += fx.size
            scale_exact += int((fx == fy).sum())
            worst_scale = max(worst_scale, float(np.max(np.abs(fx - fy) / np.maximum(np.abs(fx), 1e-8))))
        else:
            fx, fy = x.astype(np.float64), y.astype(np.float64)
            worst_other = max(worst_other, float(np.max(np.abs(fx - fy))) if fx.size else 0.0)
    share = codes_equal / max(codes, 1)
    print(f"codes: {codes_equal} of {codes} equal ({100 * share:.3f} %)")
    print(f"scales: {scale_exact} of {scale_values} bit-identical ({100 * scale_exact / max(scale_values, 1):.3f} %); "
          f"worst relative difference {worst_scale:.3g}")
    print(f"other tensors (norms, embeddings, head): worst absolute difference {worst_other:.3g}")
    passed = share >= 0.99
    print("PASS" if passed else "FAIL: fewer than 99 % of the codes agree")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
