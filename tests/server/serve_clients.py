#!/usr/bin/env python3
"""`awq serve` driven by Python's standard library (urllib), as an OpenAI client script would:
models, chat (whole and streamed, the stream equal to the whole reply for a seed),
completions, every error status a client can cause (400, 401, 404, 413, 429), a client that
hangs up mid-stream (its generation stops: the next request is served at once although the
queue holds nothing), and Ctrl+C (a clean exit).

usage: serve_clients.py --awq BUILD/bin/awq --model resources/models/demo-llama
"""

import argparse
import json
import sys
import threading
import time

from serve_common import Server, check, open_stream, request, sse_events

KEY = "test-key-123"


def chat_body(model, content, **extra):
    body = {"model": model, "messages": [{"role": "user", "content": content}]}
    body.update(extra)
    return body


def streamed_text(resp, field):
    text, chunks, done, usage = "", [], False, None
    for event in sse_events(resp):
        if event == "[DONE]":
            done = True
            continue
        chunks.append(event)
        if event.get("usage"):
            usage = event["usage"]
        for choice in event["choices"]:
            text += (choice.get("delta", {}).get("content") or "") if field == "chat" else choice["text"]
    return text, chunks, done, usage


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--awq", required=True)
    parser.add_argument("--model", required=True)
    args = parser.parse_args()

    server = Server(args.awq, args.model, "--api-key", KEY, "--queue", "0", "--max-body", "65536", "--quiet")
    url, model = server.url, server.model
    try:
        status, doc, _ = request(url, "/health")
        check(status == 200 and doc["status"] == "ok", "health: %s %s" % (status, doc))

        # The key: missing, wrong, right.
        status, doc, _ = request(url, "/v1/models")
        check(status == 401 and doc["error"]["code"] == "invalid_api_key", "no key: %s %s" % (status, doc))
        status, doc, _ = request(url, "/v1/chat/completions", chat_body(model, "Hi", max_tokens=2), key="wrong")
        check(status == 401 and doc["error"]["type"] == "authentication_error", "wrong key: %s %s" % (status, doc))
        status, doc, _ = request(url, "/v1/models", key=KEY)
        check(status == 200 and doc["data"][0]["id"] == model, "models: %s %s" % (status, doc))

        # Chat, whole and streamed with the same seed.
        body = chat_body(model, "Tell me about the sea.", max_tokens=40, temperature=0.8, seed=1234,
                         stream_options={"include_usage": True})
        status, whole, _ = request(url, "/v1/chat/completions", body, key=KEY)
        check(status == 200 and whole["object"] == "chat.completion", "chat: %s %s" % (status, whole))
        reply = whole["choices"][0]["message"]["content"]
        check(whole["usage"]["completion_tokens"] > 0 and whole["usage"]["prompt_tokens"] > 0, "usage: %s" % whole)
        with open_stream(url, "/v1/chat/completions", body, key=KEY) as resp:
            check(resp.headers.get_content_type() == "text/event-stream", "stream content type")
            text, chunks, done, usage = streamed_text(resp, "chat")
        check(done, "the stream did not end with [DONE]")
        check(all(c["object"] == "chat.completion.chunk" for c in chunks), "chunk objects")
        check(chunks[0]["choices"][0]["delta"].get("role") == "assistant", "the first chunk names the role")
        check(text == reply, "stream %r != whole reply %r" % (text, reply))
        check(usage == whole["usage"], "stream usage %s != %s" % (usage, whole["usage"]))

        # Completions, whole and streamed.
        body = {"model": model, "prompt": "Once upon a time", "max_tokens": 30, "temperature": 0.7, "seed": 5}
        status, whole, _ = request(url, "/v1/completions", body, key=KEY)
        check(status == 200 and whole["object"] == "text_completion", "completion: %s %s" % (status, whole))
        with open_stream(url, "/v1/completions", body, key=KEY) as resp:
            text, chunks, done, _ = streamed_text(resp, "text")
        check(done and text == whole["choices"][0]["text"], "completion stream %r != %r" % (text, whole))

        # Errors a client can cause.
        def expect(status_doc, code, what):
            status, doc, raw = status_doc
            check(status == code and isinstance(doc, dict) and "message" in doc.get("error", {}),
                  "%s: expected %d with an OpenAI error, got %s %r" % (what, code, status, raw[:200]))
        expect(request(url, "/v1/chat/completions", raw=b"{oops", key=KEY), 400, "malformed JSON")
        expect(request(url, "/v1/chat/completions", chat_body(model, "Hi", temperature="warm"), key=KEY), 400, "bad field")
        expect(request(url, "/v1/chat/completions", chat_body(model, "Hi", max_tokens=100000), key=KEY), 400, "over context")
        expect(request(url, "/v1/chat/completions", chat_body("no-such-model", "Hi"), key=KEY), 404, "unknown model")
        expect(request(url, "/v1/embeddings", {"input": "x"}, key=KEY), 404, "unknown route")
        expect(request(url, "/v1/chat/completions", chat_body(model, "x" * 100000), key=KEY), 413, "body too large")

        # Queue full: --queue 0, so while one generation runs a second request is refused.
        with open_stream(url, "/v1/chat/completions", chat_body(model, "Talk for a long time.", max_tokens=200,
                                                                temperature=1.0), key=KEY) as resp:
            events = sse_events(resp)
            next(events)  # the role chunk: the request is admitted
            next(events)  # a first piece: it is generating
            expect(request(url, "/v1/chat/completions", chat_body(model, "Hi", max_tokens=1), key=KEY), 429, "queue full")
            # Hang up mid-stream.
        # Its generation stops: with no queue, the next request is served, not refused.
        time.sleep(0.3)
        status, doc, _ = request(url, "/v1/chat/completions", chat_body(model, "Hi", max_tokens=2), key=KEY)
        check(status == 200, "after a disconnect the next request got %s %s" % (status, doc))
        status, doc, _ = request(url, "/health")
        check(doc["running"] == 0 and doc["waiting"] == 0, "health after the disconnect: %s" % doc)

        rc = server.interrupt()
        check(rc == 0, "awq serve exited %d after Ctrl+C:\n%s" % (rc, server.stderr))
        check("stopped after" in server.stderr, "no summary line on Ctrl+C:\n%s" % server.stderr)
    finally:
        server.kill()
    print("serve_clients: all checks passed against %s (%s)" % (url, model))


if __name__ == "__main__":
    main()
