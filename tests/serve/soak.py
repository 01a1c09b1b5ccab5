"""tests/serve/soak.py — `edgegen serve` under a long mixed load: N requests (default 10,000) from 4 concurrent clients,
a mix of GET /health (45 %), POST /v1/audio/speech with short inputs (45 %, wav and pcm) and Wyoming `synthesize`
(10 %, through the `wyoming` package's event reader/writer), on the tiny test model with 2 streams. Checks that
every request succeeded, and that the server's RSS after the run is within TOLERANCE of its RSS after a warm-up
(N/10 requests): a leak of ~120 bytes per request would exceed it (espeak-ng leaking ~1.3 KiB per voice switch did, +13 MiB). Bounded: fails past --max-seconds.
Prints "ok/FAIL" lines and the harness summary.
    python tests/serve/soak.py [--edgegen build/edgegen] [--requests 10000]
"""
import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time

from wyoming.event import read_event, write_event
from wyoming.tts import Synthesize

sys.path.insert(0, os.path.dirname(__file__))
from test_serve import Server  # noqa: E402

TOLERANCE = 1 << 20   # bytes of RSS growth allowed between the warm-up and the end (malloc arenas settle, stacks)
TEXTS = ["Hi.", "Yes.", "Good morning.", "It is 5 degrees.", "Turn on the light.", "Okay, done."]


def rss(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


class Client:
    def __init__(self, S):
        self.S = S
        self.h = http.client.HTTPConnection("127.0.0.1", S.http_port, timeout=60)

    def one(self, i):
        kind = i % 20
        if kind < 9:
            self.h.request("GET", "/health")
            r = self.h.getresponse()
            body = r.read()
            return r.status == 200 and json.loads(body)["status"] == "ok"
        if kind < 18:
            fmt = "wav" if kind % 2 else "pcm"
            body = json.dumps({"model": "edgegen-pico", "input": TEXTS[i % len(TEXTS)], "voice": "v", "response_format": fmt})
            self.h.request("POST", "/v1/audio/speech", body=body, headers={"Content-Type": "application/json"})
            r = self.h.getresponse()
            data = r.read()
            return r.status == 200 and len(data) > (44 if fmt == "wav" else 0) + 1000
        with socket.create_connection(("127.0.0.1", self.S.wy_port), timeout=60) as s:
            f = s.makefile("rwb")
            write_event(Synthesize(text=TEXTS[i % len(TEXTS)]).event(), f)
            n = 0
            while True:
                ev = read_event(f)
                if ev is None or ev.type == "error":
                    return False
                if ev.type == "audio-chunk":
                    n += len(ev.payload or b"")
                if ev.type == "audio-stop":
                    return n > 1000


def run_load(S, start, count, workers=4):
    errors = []
    nxt = [start]
    lock = threading.Lock()

    def work():
        c = Client(S)
        while True:
            with lock:
                i = nxt[0]
                if i >= start + count:
                    return
                nxt[0] += 1
            try:
                if not c.one(i):
                    errors.append(i)
            except Exception as e:   # noqa: BLE001 - every failure is counted and shown
                errors.append(f"{i}: {type(e).__name__}: {e}")
                c = Client(S)

    ts = [threading.Thread(target=work) for _ in range(workers)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    return errors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edgegen", default="build/edgegen")
    ap.add_argument("--requests", type=int, default=10000)
    ap.add_argument("--max-seconds", type=float, default=600)
    a = ap.parse_args()
    S = Server(a.edgegen, "--streams", "2", "--queue-timeout", "30")
    npass = nfail = 0
    try:
        warm = a.requests // 10
        t0 = time.time()
        errs = run_load(S, 0, warm)
        r0 = rss(S.p.pid)
        errs += run_load(S, warm, a.requests - warm)
        took = time.time() - t0
        r1 = rss(S.p.pid)
        h = S.health()
        line = (f"{a.requests} requests in {took:.1f} s ({a.requests / took:.0f}/s; {h['requests']} syntheses); "
                f"RSS {r0 / 1048576:.2f} MiB after warm-up, {r1 / 1048576:.2f} MiB at the end ({(r1 - r0) / 1024:+.0f} KiB, "
                f"tolerance {TOLERANCE >> 10} KiB)")
        print("   " + line)
        checks = [
            ("soak: every request succeeded", not errs, f"{len(errs)} failed, e.g. {errs[:3]}"),
            ("soak: bounded time", took < a.max_seconds, f"{took:.0f} s > {a.max_seconds:.0f} s"),
            ("soak: no RSS growth", r1 - r0 <= TOLERANCE, line),
            ("soak: server healthy after", h["status"] == "ok" and h["streams_busy"] == 0 and S.p.poll() is None, str(h)),
        ]
        for name, ok, why in checks:
            if ok:
                npass += 1
                print(f"ok   {name}")
            else:
                nfail += 1
                print(f"FAIL {name}: {why}")
    finally:
        S.stop()
    print(f"{npass} passed, {nfail} failed, 0 skipped")
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
