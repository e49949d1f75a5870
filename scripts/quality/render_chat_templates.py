#!/usr/bin/env python3
"""Renders the chat templates in tests/data/chat_templates with Python's Jinja2 set up as
transformers sets it up (trim_blocks, lstrip_blocks, loop controls, raise_exception,
strftime_now, tojson without ASCII escaping), for the conversation tst_chat_template uses
(system "sys", user "hi", assistant "hello", user "again"; with and without the system
message, with and without the generation prompt), and once more for a conversation whose
messages start and end with non-ASCII whitespace and need non-ASCII case mapping. Prints each rendering as a JSON string,
for comparison with the expectations in tests/engine/tst_chat_template.cpp. With --write
it stores them in tests/data/chat_templates/jinja2-reference.json, which tst_chat_template
renders again with the C++ renderer and compares byte for byte.

Needs python3-jinja2 (Debian); not used by the build or CI.
    python3 scripts/quality/render_chat_templates.py [--write]
"""
import datetime
import json
import pathlib
import sys

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOKENS = {  # bos, eos as the models' tokenizer_config.json give them
    "llama-2-chat": ("<s>", "</s>"),
    "mistral-7b-instruct-v0.1": ("<s>", "</s>"),
    "mistral-7b-instruct-v0.2": ("<s>", "</s>"),
    "llama-3-instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "llama-3.1-instruct": ("<|begin_of_text|>", "<|eot_id|>"),
    "qwen2-instruct": ("", "<|im_end|>"),
    "chatml-openhermes": ("", ""),
    "zephyr-7b-beta": ("<s>", "</s>"),
    "gemma-7b-it": ("<bos>", "<eos>"),
}


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = lambda x, indent=None, ensure_ascii=False: json.dumps(x, ensure_ascii=ensure_ascii, indent=indent)
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.datetime.now().strftime(fmt)
    return env


def conversation(system):
    messages = [{"role": "system", "content": "sys"}] if system else []
    return messages + [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                       {"role": "user", "content": "again"}]


def unicode_conversation():
    """Messages that start or end with non-ASCII whitespace (U+00A0, U+3000, U+2003, U+205F),
    with non-ASCII case mapping (ß, final sigma, ǅ, the ﬁ ligature): templates that strip or
    change case must treat them as Python's str does."""
    return [{"role": "system", "content": "\u3000Be brief.\u00a0"},
            {"role": "user", "content": "\u00a0Stra\u00dfe und \u03a3\u039f\u03a6\u039f\u03a3\u3000"},
            {"role": "assistant", "content": "\u2003Gr\u00fc\u00dfe!\u00a0"},
            {"role": "user", "content": "\u01c5 \ufb01nal\u205f "}]


def main():
    env = environment()
    cases = []
    for path in sorted((ROOT / "tests/data/chat_templates").glob("*.jinja")):
        template = env.from_string(path.read_text())
        bos, eos = TOKENS.get(path.stem, ("", ""))
        for system in (True, False):
            for prompt in (True, False):
                case = {"template": path.name, "system": system, "add_generation_prompt": prompt,
                        "bos_token": bos, "eos_token": eos, "messages": conversation(system)}
                try:
                    case["output"] = template.render(messages=case["messages"], add_generation_prompt=prompt,
                                                     bos_token=bos, eos_token=eos)
                except jinja2.exceptions.TemplateError as error:
                    case["error"] = str(error)
                cases.append(case)
                label = f"{path.stem} system={system} add_generation_prompt={prompt}"
                print(label, json.dumps(case["output"]) if "output" in case else "raises: " + case["error"])
        for system in (True, False):
            messages = unicode_conversation()[0 if system else 1:]
            case = {"template": path.name, "system": system, "add_generation_prompt": True, "bos_token": bos,
                    "eos_token": eos, "messages": messages}
            try:
                case["output"] = template.render(messages=messages, add_generation_prompt=True,
                                                 bos_token=bos, eos_token=eos)
            except jinja2.exceptions.TemplateError as error:
                case["error"] = str(error)
            cases.append(case)
            print(f"{path.stem} unicode system={system}",
                  json.dumps(case["output"]) if "output" in case else "raises: " + case["error"])
    if "--write" in sys.argv:
        out = ROOT / "tests/data/chat_templates/jinja2-reference.json"
        out.write_text(json.dumps({"jinja2": jinja2.__version__, "cases": cases}, indent=1, ensure_ascii=False) + "\n")
        print("wrote", out)


if __name__ == "__main__":
    main()
