#!/usr/bin/env python3
"""Renders the chat templates in tests/data/chat_templates with Python's Jinja2 set up as
transformers sets it up (ImmutableSandboxedEnvironment, trim_blocks, lstrip_blocks, loop
controls, raise_exception, strftime_now, tojson without ASCII escaping; `tools` and
`documents` passed as None when the request has none), for a set of conversations:

- "basic": system "sys", user "hi", assistant "hello", user "again"; with and without the
  system message, with and without the generation prompt (every template);
- "unicode": messages that start and end with non-ASCII whitespace and need non-ASCII case
  mapping, with and without the system message (every template);
- "tools" / "parallel-tools": tool definitions, assistant turns with <think> reasoning (in the
  content and as reasoning_content) and tool calls (one per turn, or two at once), tool
  responses, a final answer and a new question, and the same exchange cut after the tool
  responses ("-pending"; Qwen3 also with enable_thinking true and false); the templates
  that handle tools: Qwen3, Qwen2.5, Llama 3.1, DeepSeek V3;
- "thinking": the basic conversation with enable_thinking true and false (Qwen3);
- "parts": content as a list of {"type": "text"} / {"type": "image"} parts, the system
  message merged into the first user turn (Gemma 3).

Each case stores the template's variables exactly as rendered (tool-call arguments as a
mapping, as transformers documents them, or as the JSON text the chat API carries for
templates that concatenate it, DeepSeek V3's) and the output or the raise_exception message.
Prints each rendering as a JSON string; with --write stores them in
tests/data/chat_templates/jinja2-reference.json, which tst_chat_template_reference renders
again with the C++ renderer and compares byte for byte.

Needs python3-jinja2 (Debian); not used by the build or CI.
    python3 scripts/quality/render_chat_templates.py [--write]
"""
import copy
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
    "qwen3": ("", "<|im_end|>"),
    "qwen2.5-instruct": ("", "<|im_end|>"),
    "chatml-openhermes": ("", ""),
    "zephyr-7b-beta": ("<s>", "</s>"),
    "gemma-7b-it": ("<bos>", "<eos>"),
    "gemma-3-it": ("<bos>", "<end_of_turn>"),
    "deepseek-v3": ("<\uff5cbegin\u2581of\u2581sentence\uff5c>", "<\uff5cend\u2581of\u2581sentence\uff5c>"),
}
TOOL_TEMPLATES = {"qwen3", "qwen2.5-instruct", "llama-3.1-instruct", "deepseek-v3"}
STRING_ARGUMENTS = {"deepseek-v3"}  # concatenates the arguments: needs the JSON text
THINKING_TEMPLATES = {"qwen3"}
PARTS_TEMPLATES = {"gemma-3-it"}

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Current weather for a city (°C)",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "The city's name, e.g. Zürich or 東京"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}, "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "get_time", "description": "Local time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
]


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"])
    env.filters["tojson"] = lambda x, ensure_ascii=False, indent=None, separators=None, sort_keys=False: json.dumps(
        x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: datetime.datetime.now().strftime(fmt)
    return env


def basic(system):
    messages = [{"role": "system", "content": "sys"}] if system else []
    return messages + [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"},
                       {"role": "user", "content": "again"}]


def unicode_conversation(system):
    """Messages that start or end with non-ASCII whitespace (U+00A0, U+3000, U+2003, U+205F),
    with non-ASCII case mapping (ß, final sigma, ǅ, the ﬁ ligature): templates that strip or
    change case must treat them as Python's str does."""
    messages = [{"role": "system", "content": "\u3000Be brief.\u00a0"},
                {"role": "user", "content": "\u00a0Stra\u00dfe und \u03a3\u039f\u03a6\u039f\u03a3\u3000"},
                {"role": "assistant", "content": "\u2003Gr\u00fc\u00dfe!\u00a0"},
                {"role": "user", "content": "\u01c5 \ufb01nal\u205f "}]
    return messages if system else messages[1:]


def call(call_id, name, arguments):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def tool_conversation(parallel):
    """A tool-using exchange as the chat API carries it: the first assistant turn thinks (in
    its content) and calls a tool, the second (after the tool response) calls another with its
    reasoning as reasoning_content (or both calls at once when parallel), then a final answer
    and a new question. The Llama 3.1 template refuses parallel calls, as in transformers."""
    messages = [{"role": "system", "content": "You are a helpful assistant."},
                {"role": "user", "content": "What's the weather and the time in Zürich?"}]
    first = call("call_1", "get_weather", {"city": "Zürich", "unit": "celsius"})
    second = call("call_2", "get_time", {"city": "Zürich"})
    if parallel:
        messages.append({"role": "assistant", "content": "<think>\nTwo questions, two tools.\n</think>\n\n",
                         "tool_calls": [first, second]})
        messages.append({"role": "tool", "tool_call_id": "call_1", "name": "get_weather",
                         "content": "{\"temperature\": 18.5, \"sky\": \"clear\"}"})
    else:
        messages.append({"role": "assistant", "content": "<think>\nWeather first.\n</think>\n\nLet me check.",
                         "tool_calls": [first]})
        messages.append({"role": "tool", "tool_call_id": "call_1", "name": "get_weather",
                         "content": "{\"temperature\": 18.5, \"sky\": \"clear\"}"})
        messages.append({"role": "assistant", "content": "", "reasoning_content": "Now the time.",
                         "tool_calls": [second]})
    messages.append({"role": "tool", "tool_call_id": "call_2", "name": "get_time", "content": "14:05"})
    messages.append({"role": "assistant", "content": "<think>\nBoth answered.\n</think>\n\nIt is 18.5 °C and clear; the time is 14:05."})
    messages.append({"role": "user", "content": "Thanks! And in 東京?"})
    return messages


def for_template(messages, stem):
    """The messages as a template of this family expects them: DeepSeek V3's concatenates the
    arguments (the JSON text) and tests `content is none` on a turn that only calls tools."""
    messages = copy.deepcopy(messages)
    if stem in STRING_ARGUMENTS:
        for m in messages:
            if "tool_calls" in m:
                m["content"] = None
                for c in m["tool_calls"]:
                    c["function"]["arguments"] = json.dumps(c["function"]["arguments"], ensure_ascii=False)
    return messages


def parts_conversation(system):
    """Content as lists of parts (Gemma 3's template): a system message in parts is merged
    into the first user turn; an image part becomes <start_of_image>."""
    messages = [{"role": "system", "content": [{"type": "text", "text": "Answer in one line.\u00a0"}]}] if system else []
    return messages + [
        {"role": "user", "content": [{"type": "image"}, {"type": "text", "text": " What is in the picture? "}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A cat\u3000"}]},
        {"role": "user", "content": [{"type": "text", "text": "And its colour?"}, {"type": "text", "text": "\u2003Briefly."}]},
    ]


def cases_for(stem):
    """(conversation label, variables without the tokens) for one template."""
    out = []
    for system in (True, False):
        for prompt in (True, False):
            out.append(("basic", {"messages": basic(system), "add_generation_prompt": prompt}))
    for system in (True, False):
        out.append(("unicode", {"messages": unicode_conversation(system), "add_generation_prompt": True}))
    if stem in THINKING_TEMPLATES:
        for thinking in (True, False):
            out.append(("thinking", {"messages": basic(True), "add_generation_prompt": True, "enable_thinking": thinking}))
    if stem in TOOL_TEMPLATES:
        for parallel in (False, True):
            label = "parallel-tools" if parallel else "tools"
            messages = for_template(tool_conversation(parallel), stem)
            out.append((label, {"messages": messages, "tools": TOOLS, "add_generation_prompt": True}))
            # Ending with the tool responses: the model goes on after its own calls, so the
            # turns after the last user message keep their reasoning (Qwen3).
            pending = messages[:-2]
            out.append((label + "-pending", {"messages": pending, "tools": TOOLS, "add_generation_prompt": True}))
            if stem in THINKING_TEMPLATES:
                for thinking in (True, False):
                    out.append((label + "-pending", {"messages": pending, "tools": TOOLS,
                                                     "add_generation_prompt": True, "enable_thinking": thinking}))
        # The tool exchange without tool definitions, as a client that sends the history only.
        out.append(("tools", {"messages": for_template(tool_conversation(False), stem), "add_generation_prompt": False}))
    if stem in PARTS_TEMPLATES:
        for system in (True, False):
            out.append(("parts", {"messages": parts_conversation(system), "add_generation_prompt": True}))
    return out


def main():
    env = environment()
    cases = []
    for path in sorted((ROOT / "tests/data/chat_templates").glob("*.jinja")):
        template = env.from_string(path.read_text(encoding="utf-8"))
        bos, eos = TOKENS.get(path.stem, ("", ""))
        for label, variables in cases_for(path.stem):
            # As transformers' render_jinja_template: tools and documents are always passed.
            variables = {"tools": None, "documents": None, **variables, "bos_token": bos, "eos_token": eos}
            case = {"template": path.name, "conversation": label, "variables": variables}
            try:
                case["output"] = template.render(**variables)
            except jinja2.exceptions.TemplateError as error:
                case["error"] = str(error)
            cases.append(case)
            extra = "".join(f" {k}={variables[k]}" for k in ("add_generation_prompt", "enable_thinking") if k in variables)
            system = variables["messages"][0]["role"] == "system"
            print(f"{path.stem} {label} system={system}{extra}",
                  json.dumps(case["output"], ensure_ascii=False) if "output" in case else "raises: " + case["error"])
    if "--write" in sys.argv:
        out = ROOT / "tests/data/chat_templates/jinja2-reference.json"
        out.write_text(json.dumps({"jinja2": jinja2.__version__, "cases": cases}, indent=1, ensure_ascii=False) + "\n",
                       encoding="utf-8")
        print("wrote", out, len(cases), "cases")


if __name__ == "__main__":
    main()
