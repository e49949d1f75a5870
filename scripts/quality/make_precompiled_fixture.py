#!/usr/bin/env python3
"""Builds tests/data/tokenizer_json/precompiled_charsmap.json, the fixture of the Precompiled
normalizer (sentencepiece's "precompiled_charsmap"): a charsmap compiled by sentencepiece
itself from the rules below (spm_train --normalization_rule_tsv, Debian's `sentencepiece`
package), taken out of the trained model's NormalizerSpec, base64 as tokenizer.json holds it,
and the texts normalized by sentencepiece (spm_normalize with the same rules).

sentencepiece replaces the longest key at each position; `tokenizers` (whose behaviour the
engine follows) works on extended grapheme clusters: a cluster under 6 bytes is replaced
whole by the string of the shortest key it starts with, a longer one character by character.
The two differ only where a key spans several characters of a long cluster or is a prefix of
a longer key; the cases where they do carry "tokenizers", worked out from that rule, beside
sentencepiece's output.

Not used by the build or CI. Needs spm_train and spm_normalize (Debian: sentencepiece).
    python3 scripts/quality/make_precompiled_fixture.py [--write]
"""
import base64
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]

# source code points -> replacement code points (a sample of NFKC-style rules, written for
# the fixture; an empty replacement deletes).
RULES = [
    ("FB01", "66 69"),        # ﬁ -> fi
    ("FF21", "41"),           # Ａ -> A
    ("FF41", "61"),           # ａ -> a
    ("FF11", "31"),           # １ -> 1
    ("2460", "31"),           # ① -> 1
    ("2122", "54 4D"),        # ™ -> TM
    ("3000", "20"),           # ideographic space -> space
    ("A0", "20"),             # no-break space -> space
    ("9", "20"),              # tab -> space
    ("65 301", "E9"),         # e + combining acute -> é
    ("41 30A", "C5"),         # A + combining ring -> Å
    ("212B", "C5"),           # Ångström sign -> Å
    ("1100 1161", "AC00"),    # Hangul jamo ᄀ + ᅡ -> 가
    ("3231", "28 682A 29"),   # ㈱ -> (株)
    ("FF5E", "7E"),           # ～ -> ~
    ("2026", "2E 2E 2E"),     # … -> ...
    ("BD", "31 2044 32"),     # ½ -> 1⁄2
    ("200B", ""),             # zero-width space -> nothing
    ("1F1EF 1F1F5", "4A 50"), # 🇯🇵 (regional indicators) -> JP
]

TEXTS = [
    "plain ASCII stays as it is",
    "ﬁnal ﬁle",
    "ＡＢＣ ａｂｃ １２３",
    "① ™ ㈱ ½",
    "tab\there and\u3000ideographic\u00a0space",
    "cafe\u0301 and A\u030angstr\u00f6m \u212b",
    "\u2026 \uff5e zero\u200bwidth",
    "Japan \U0001F1EF\U0001F1F5 flag",
    "\u1100\u1161 jamo pair",
    "\u00e9 precomposed stays",
    "e\u0301\u0301 two accents",
    "ﬁ\u0301 ligature with an accent",
    "",
]

# Where `tokenizers`' grapheme rule gives another text than sentencepiece's longest match:
#  - the flag's regional indicators are one 8-byte cluster: too long to replace whole, and
#    neither indicator has a key of its own, so it stays;
#  - ᄀ + ᅡ is one 6-byte cluster: the same;
#  - e + two acute accents is one 5-byte cluster starting with the key "e + acute": the whole
#    cluster becomes "é" (the second accent goes);
#  - ﬁ + acute is one 5-byte cluster starting with the key "ﬁ": it becomes "fi".
TOKENIZERS = {
    "Japan \U0001F1EF\U0001F1F5 flag": "Japan \U0001F1EF\U0001F1F5 flag",
    "\u1100\u1161 jamo pair": "\u1100\u1161 jamo pair",
    "e\u0301\u0301 two accents": "\u00e9 two accents",
    "ﬁ\u0301 ligature with an accent": "fi ligature with an accent",
}


def varint(data, pos):
    value, shift = 0, 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, pos


def fields(data):
    """(field number, wire type, value) of a protobuf message; length-delimited values as bytes."""
    pos = 0
    while pos < len(data):
        key, pos = varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(data, pos)
        elif wire == 1:
            value, pos = data[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = varint(data, pos)
            value, pos = data[pos:pos + length], pos + length
        elif wire == 5:
            value, pos = data[pos:pos + 4], pos + 4
        else:
            raise ValueError(f"wire type {wire}")
        yield number, wire, value


def charsmap_of(model):
    """ModelProto.normalizer_spec (3) .precompiled_charsmap (2)."""
    for number, _, value in fields(model):
        if number == 3:
            for inner, _, blob in fields(value):
                if inner == 2:
                    return blob
    raise ValueError("the model has no precompiled_charsmap")


def main():
    with tempfile.TemporaryDirectory() as scratch:
        scratch = pathlib.Path(scratch)
        rules = scratch / "rules.tsv"
        rules.write_text("".join(f"{source}\t{target}\n" for source, target in RULES))
        corpus = scratch / "corpus.txt"
        corpus.write_text("".join(text + "\n" for text in TEXTS if text) * 20)
        subprocess.run(["spm_train", f"--input={corpus}", f"--model_prefix={scratch / 'm'}", "--model_type=char",
                        "--vocab_size=60", f"--normalization_rule_tsv={rules}", "--add_dummy_prefix=false",
                        "--remove_extra_whitespaces=false", "--minloglevel=2"], check=True)
        charsmap = charsmap_of((scratch / "m.model").read_bytes())
        texts = scratch / "texts.txt"
        texts.write_text("".join(text + "\n" for text in TEXTS))
        normalized = subprocess.run(["spm_normalize", f"--normalization_rule_tsv={rules}",
                                     "--remove_extra_whitespaces=false", f"--input={texts}"],
                                    check=True, capture_output=True, text=True).stdout.split("\n")
    cases = []
    for text, spm in zip(TEXTS, normalized):
        case = {"text": text, "sentencepiece": spm}
        if text in TOKENIZERS:
            case["tokenizers"] = TOKENIZERS[text]
        cases.append(case)
        print(json.dumps(case, ensure_ascii=False))
    fixture = {"about": "written by scripts/quality/make_precompiled_fixture.py: a charsmap sentencepiece compiled "
                        "from these rules, and the texts normalized by sentencepiece and (where it differs) by "
                        "the rule of tokenizers' Precompiled normalizer",
               "rules": [f"{source}\t{target}" for source, target in RULES],
               "precompiled_charsmap": base64.b64encode(charsmap).decode("ascii"), "cases": cases}
    if "--write" in sys.argv:
        out = ROOT / "tests/data/tokenizer_json/precompiled_charsmap.json"
        out.write_text(json.dumps(fixture, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print("wrote", out, len(charsmap), "bytes of charsmap")


if __name__ == "__main__":
    main()
