#!/usr/bin/python3
"""Runs llama.cpp's convert_hf_to_gguf.py unchanged on Debian 12's Python packages.

Usage: convert_hf_shim.py LLAMA_CPP_DIR CONVERTER_ARGS...

The converter imports `transformers` only for AutoConfig.from_pretrained(dir).to_dict()
on the paths a Llama checkpoint takes (Debian 12 has no python3-transformers), and names
dtypes that Debian's torch 1.13 (python3-torch) lacks (float8_e4m3fn, float8_e5m2) in
dictionaries it builds at import. This shim provides a minimal `transformers` module
that reads config.json, gives torch placeholder objects for the missing dtypes (no
tensor of this checkpoint has them, so they never match), then runs the converter
as __main__. The converter and its gguf-py come from the same llama.cpp tree.
"""
import json
import pathlib
import runpy
import sys
import types

import torch

if len(sys.argv) < 3:
    sys.exit(__doc__)
llama_dir = pathlib.Path(sys.argv[1]).resolve()
converter = llama_dir / "convert_hf_to_gguf.py"
if not converter.is_file():
    sys.exit(f"convert_hf_shim: {converter} does not exist")


class _Config:
    """The part of transformers' PretrainedConfig the converter reads for Llama."""

    def __init__(self, values):
        self._values = values

    @classmethod
    def from_pretrained(cls, path, **_kwargs):
        config = pathlib.Path(path) / "config.json"
        with open(config, encoding="utf-8") as f:
            return cls(json.load(f))

    def to_dict(self):
        return dict(self._values)


class _NoTokenizer:
    @classmethod
    def from_pretrained(cls, path, **_kwargs):
        raise RuntimeError(
            f"convert_hf_shim: the converter asked for a Hugging Face tokenizer for {path}; "
            "this shim supports SentencePiece (tokenizer.model) checkpoints only")


transformers = types.ModuleType("transformers")
transformers.AutoConfig = _Config
transformers.AutoTokenizer = _NoTokenizer
sys.modules["transformers"] = transformers

for name in ("float8_e4m3fn", "float8_e5m2"):
    if not hasattr(torch, name):
        setattr(torch, name, type(name, (), {})())  # a distinct object no tensor dtype equals

sys.path.insert(0, str(llama_dir))
sys.path.insert(1, str(llama_dir / "gguf-py"))
sys.argv = [str(converter)] + sys.argv[2:]
runpy.run_path(str(converter), run_name="__main__")
