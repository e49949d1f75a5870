"""Shared by the `awq serve` client tests: start the server on a free loopback port, talk to it
with urllib (Python's standard library only), parse server-sent events, stop it with Ctrl+C."""

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request


class Server:
    """`awq serve MODEL --port 0 ...` as a child process; url is http://127.0.0.1:PORT."""

    def __init__(self, awq, model, *args):
        self.proc = subprocess.Popen([awq, "serve", model, "--host", "127.0.0.1", "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()  # "serving NAME at http://127.0.0.1:PORT/v1 (Ctrl+C stops)"
        if " at http://" not in line:
            self.proc.kill()
            raise SystemExit("awq serve did not start: %r\n%s" % (line, self.proc.stderr.read()))
        self.model = line.split()[1]
        self.url = line.split(" at ")[1].split("/v1")[0]
        self.stderr = ""

    def interrupt(self, timeout=30):
        """Ctrl+C, then wait for the process to end; returns its exit code."""
        self.proc.send_signal(signal.SIGINT)
        try:
            _, self.stderr = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise SystemExit("awq serve did not stop within %d s of Ctrl+C" % timeout)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


def request(url, path, body=None, key=None, raw=None, timeout=60):
    """(status, parsed JSON or None, raw bytes). Errors come back as their status, not raised."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url + path, data=data, method="POST" if data is not None else "GET")
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", "Bearer " + key)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            status, payload = resp.status, resp.read()
    except urllib.error.HTTPError as e:
        status, payload = e.code, e.read()
    try:
        doc = json.loads(payload)
    except ValueError:
        doc = None
    return status, doc, payload


def open_stream(url, path, body, key=None, timeout=60):
    """The open response of a streaming request (read it with sse_events)."""
    req = urllib.request.Request(url + path, data=json.dumps(dict(body, stream=True)).encode(), method="POST")
    req.add_header("Content-Type", "application/json")
    if key:
        req.add_header("Authorization", "Bearer " + key)
    return urllib.request.urlopen(req, timeout=timeout)


def sse_events(resp):
    """Yields each event's data payload: the parsed JSON chunk, or the string "[DONE]"."""
    for raw in resp:
        line = raw.decode("utf-8").rstrip("\r\n")
        if not line or line.startswith(":"):
            continue
        if not line.startswith("data: "):
            raise AssertionError("not an SSE data line: %r" % line)
        payload = line[len("data: "):]
        yield payload if payload == "[DONE]" else json.loads(payload)


def check(condition, message):
    if not condition:
        raise AssertionError(message)
