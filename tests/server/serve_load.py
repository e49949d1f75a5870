#!/usr/bin/env python3
"""Bounded load test of `awq serve` on loopback: N requests (default 200) from C concurrent
clients (default 8), a mix of chat and completions, streamed and not, against one model.
Every request must be answered: completed (200) or refused cleanly (429/503 with an OpenAI
error body); the server must not crash; its resident memory is sampled throughout and must
stay flat (growth after the warm-up below --max-rss-growth-mib). Prints the figures
docs/reliability.md records; --json writes them.

usage: serve_load.py --awq BUILD/bin/awq --model resources/models/demo-llama [--requests 200]
       [--clients 8] [--max-tokens 32] [--queue 4] [--json FILE]
"""

import argparse
import json
import random
import statistics
import sys
import threading
import time
import urllib.error

from serve_common import Server, open_stream, request, sse_events

PROMPTS = ["Tell me about the sea.", "What is a cat?", "Write a short story about a king.",
           "Why is the sky blue?", "Say hello.", "Describe a forest in the morning."]


def one_request(url, model, i, max_tokens):
    rng = random.Random(i)
    chat = i % 2 == 0
    stream = i % 3 == 0
    if chat:
        path = "/v1/chat/completions"
        body = {"model": model, "messages": [{"role": "user", "content": rng.choice(PROMPTS)}]}
    else:
        path = "/v1/completions"
        body = {"model": model, "prompt": rng.choice(PROMPTS)}
    body.update(max_tokens=rng.randint(1, max_tokens), temperature=0.8, seed=i)
    start = time.monotonic()
    if stream:
        try:
            with open_stream(url, path, body, timeout=120) as resp:
                done = any(event == "[DONE]" for event in sse_events(resp))
            return ("ok" if done else "truncated stream"), time.monotonic() - start
        except urllib.error.HTTPError as e:
            status, payload = e.code, e.read()
    else:
        status, _, payload = request(url, path, body, timeout=120)
        if status == 200:
            return "ok", time.monotonic() - start
    try:
        clean = "message" in json.loads(payload)["error"]
    except (ValueError, KeyError, TypeError):
        clean = False
    return ("refused %d" % status if status in (429, 503) and clean else "error %d %r" % (status, payload[:120])), \
        time.monotonic() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--awq", required=True)
    parser.add_argument("--model", required=True)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--queue", type=int, default=16)
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--time-limit", type=float, default=400.0, help="seconds for the whole run")
    parser.add_argument("--max-rss-growth-mib", type=float, default=32.0)
    parser.add_argument("--json")
    args = parser.parse_args()

    server = Server(args.awq, args.model, "--queue", str(args.queue), "--threads", str(args.threads), "--quiet")
    outcomes, latencies, rss = [], [], []
    lock = threading.Lock()
    next_index = [0]
    deadline = time.monotonic() + args.time_limit

    def client():
        while time.monotonic() < deadline:
            with lock:
                i = next_index[0]
                if i >= args.requests:
                    return
                next_index[0] += 1
            try:
                outcome, seconds = one_request(server.url, server.model, i, args.max_tokens)
            except Exception as e:  # connection refused or reset: the server failed the request
                outcome, seconds = "error %s" % e, 0.0
            with lock:
                outcomes.append(outcome)
                if outcome == "ok":
                    latencies.append(seconds)
            if outcome.startswith("refused"):
                time.sleep(0.2)  # as a client would back off before its next request

    def sampler():
        while server.proc.poll() is None and any(t.is_alive() for t in workers):
            rss.append((len(outcomes), server.rss_kib()))
            time.sleep(0.25)

    start = time.monotonic()
    workers = [threading.Thread(target=client) for _ in range(args.clients)]
    for t in workers:
        t.start()
    watcher = threading.Thread(target=sampler)
    watcher.start()
    for t in workers:
        t.join()
    watcher.join()
    wall = time.monotonic() - start
    alive = server.proc.poll() is None
    rc = server.interrupt() if alive else server.proc.returncode

    counts = {}
    for o in outcomes:
        counts[o] = counts.get(o, 0) + 1
    warm = [kib for done, kib in rss if done >= min(20, args.requests // 10)] or [kib for _, kib in rss]
    figures = {
        "requests": args.requests, "clients": args.clients, "answered": len(outcomes), "outcomes": counts,
        "wall_seconds": round(wall, 1),
        "latency_p50_s": round(statistics.median(latencies), 3) if latencies else None,
        "latency_p95_s": round(sorted(latencies)[int(0.95 * (len(latencies) - 1))], 3) if latencies else None,
        "rss_first_mib": round(rss[0][1] / 1024, 1) if rss else None,
        "rss_after_warmup_mib": round(warm[0] / 1024, 1) if warm else None,
        "rss_max_mib": round(max(k for _, k in rss) / 1024, 1) if rss else None,
        "rss_last_mib": round(rss[-1][1] / 1024, 1) if rss else None,
        "server_alive_at_end": alive, "exit_code_after_ctrl_c": rc,
    }
    print(json.dumps(figures, indent=2))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(figures, f, indent=2)

    problems = []
    if len(outcomes) != args.requests:
        problems.append("%d of %d requests answered within %.0f s" % (len(outcomes), args.requests, args.time_limit))
    bad = {o: n for o, n in counts.items() if o != "ok" and not o.startswith("refused")}
    if bad:
        problems.append("requests neither completed nor cleanly refused: %s" % bad)
    if not alive:
        problems.append("the server died (exit %s):\n%s" % (rc, server.proc.stderr.read() if server.proc.stderr else ""))
    elif rc != 0:
        problems.append("awq serve exited %d after Ctrl+C" % rc)
    if warm and (max(warm) - warm[0]) / 1024 > args.max_rss_growth_mib:
        problems.append("RSS grew %.1f MiB after the warm-up" % ((max(warm) - warm[0]) / 1024))
    if problems:
        print("serve_load: FAILED\n  " + "\n  ".join(problems), file=sys.stderr)
        sys.exit(1)
    print("serve_load: %d requests from %d clients: %s" % (args.requests, args.clients, counts))


if __name__ == "__main__":
    main()
