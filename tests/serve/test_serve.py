"""tests/serve/test_serve.py — `edgegen serve` end to end with the real clients: the `openai` PyPI client and curl
for HTTP, the `wyoming` PyPI package's TCP client (AsyncTcpClient) for Wyoming; raw sockets only where a test must
misbehave on purpose (stalled readers, lying frames, half-sent bodies), which no real client does.

Runs servers on the tiny test model pair (tests/golden/tts_tiny_*), each on free 127.0.0.1 ports, and prints one
"ok   NAME" / "FAIL NAME: why" line per test and the harness summary "N passed, N failed, N skipped".
    python tests/serve/test_serve.py [--edgegen build/edgegen] [-k SUBSTRING]
Needs the venv of tests/serve/setup_venv.sh (openai, wyoming) and curl.
"""
import argparse
import asyncio
import http.client
import json
import os
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback

import openai
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeChunk, SynthesizeStart, SynthesizeStop, SynthesizeStopped

AR = "tests/golden/tts_tiny_ar-f32.gguf"
CODEC = "tests/golden/tts_tiny_codec-f32.gguf"
SHIPPED_AR = "models/ar/pico-ar-q8_0.gguf"            # the shipped pair: only it has a distilled draft
SHIPPED_DRAFT = "models/ar/pico-ar-draft-q8_0.gguf"
TEXT = "Hello there. How are you today?"
# long enough that its audio (minutes at 16 kHz) cannot fit in the server's ring + socket buffers + a small receive
# buffer: while a client holds it unread, the synthesis is still running
LONG = " ".join(["This sentence is one of many in a long text that keeps the server busy for a while."] * 45)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One `edgegen serve` process on free ports; stderr kept for the checks."""

    def __init__(self, edgegen, *extra, http=True, wyoming=True, models=("-m", AR, "--codec", CODEC)):
        self.http_port = free_port() if http else None
        self.wy_port = free_port() if wyoming else None
        args = [edgegen, "serve", *models, "-v"]
        if http:
            args += ["--http", f"127.0.0.1:{self.http_port}"]
        if wyoming:
            args += ["--wyoming", f"tcp://127.0.0.1:{self.wy_port}"]
        args += list(extra)
        self.log = tempfile.TemporaryFile(mode="w+")
        env = dict(os.environ, EDGEGEN_BACKEND="cpu")
        self.p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.p.poll() is not None:
                raise RuntimeError(f"server exited {self.p.returncode}: {self.stderr()}")
            if "ready:" in self.stderr():
                return
            time.sleep(0.05)
        raise RuntimeError("server not ready in 30 s: " + self.stderr())

    def stderr(self):
        self.log.seek(0)
        return self.log.read()

    def base(self):
        return f"http://127.0.0.1:{self.http_port}"

    def health(self):
        c = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=10)
        c.request("GET", "/health")
        r = c.getresponse()
        body = json.loads(r.read())
        c.close()
        return body

    def wait_idle(self, seconds):
        """True once no stream is busy (within seconds)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            if self.health()["streams_busy"] == 0:
                return True
            time.sleep(0.05)
        return False

    def stop(self):
        """SIGTERM; returns the exit status (0 expected: drained; under LeakSanitizer a leak makes it non-zero)."""
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(60)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait()
        self.tail = self.stderr()[-3000:]
        self.log.close()
        return self.p.returncode


def post(port, body, headers=None, timeout=30):
    """Raw POST /v1/audio/speech with http.client: (status, headers dict, body bytes)."""
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    h = {"Content-Type": "application/json"}
    h.update(headers or {})
    c.request("POST", "/v1/audio/speech", body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    hd = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hd, data


def speech_body(text=TEXT, **kw):
    d = {"model": "edgegen-pico", "input": text, "voice": "default"}
    d.update(kw)
    return json.dumps(d)


def stalled_request(port, text=LONG, read=0):
    """Send a speech request on a socket with a tiny receive buffer and read at most `read` bytes: the server's
    stream for it stays busy (its audio cannot drain). Returns the socket (caller closes it)."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    body = speech_body(text).encode()
    s.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\n\r\n" % len(body) + body)
    got = b""
    s.settimeout(10)
    while len(got) < read:
        k = s.recv(read - len(got))
        if not k:
            break
        got += k
    return s, got


def wav_fields(b):
    riff, size, wave, fmt, flen, pcm, ch, rate, brate, align, bits, data, dsize = struct.unpack("<4sI4s4sIHHIIHH4sI", b[:44])
    return dict(riff=riff, size=size, wave=wave, pcm=pcm, ch=ch, rate=rate, bits=bits, data=data, dsize=dsize)


def one_line_error(status, data, want_status):
    """The body is an OpenAI-shaped error whose message is one line; returns the message."""
    assert status == want_status, f"status {status}, want {want_status}: {data[:200]!r}"
    j = json.loads(data)
    msg = j["error"]["message"]
    assert msg and "\n" not in msg, f"message not one line: {msg!r}"
    return msg


# ---- Wyoming helpers (the real client) --------------------------------------------------------------------------

async def wy_collect(client, until, timeout=30):
    """Read events until one of type `until` (or Error): returns the list."""
    out = []
    while True:
        ev = await asyncio.wait_for(client.read_event(), timeout)
        if ev is None:
            out.append(None)
            return out
        out.append(ev)
        if ev.type == until or Error.is_type(ev.type):
            return out


def audio_of(events):
    return b"".join(AudioChunk.from_event(e).audio for e in events if e is not None and AudioChunk.is_type(e.type))


def raw_wy(port, data, read_timeout=10):
    """Send raw bytes to the Wyoming port, then read until the server closes (or read_timeout): the bytes read and
    whether it closed."""
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    s.settimeout(read_timeout)
    got = b""
    closed = False
    try:
        while True:
            k = s.recv(65536)
            if not k:
                closed = True
                break
            got += k
    except socket.timeout:
        pass
    s.close()
    return got, closed


def first_event(raw):
    line, _, rest = raw.partition(b"\n")
    hdr = json.loads(line)
    data = hdr.get("data") or {}
    if hdr.get("data_length"):
        data.update(json.loads(rest[: hdr["data_length"]]))
    return hdr["type"], data


# ---- the tests ----------------------------------------------------------------------------------------------------

def t_health_and_models(S):
    h = S.health()
    assert h["status"] == "ok" and h["streams"] >= 1 and h["streams_busy"] == 0 and h["sample_rate"] == 16000, h
    client = openai.OpenAI(base_url=S.base() + "/v1", api_key="unused")
    ids = [m.id for m in client.models.list()]
    assert "edgegen-pico" in ids and "tts-1" in ids, ids


def t_openai_wav_pcm_curl(S):
    client = openai.OpenAI(base_url=S.base() + "/v1", api_key="unused")
    with client.audio.speech.with_streaming_response.create(model="edgegen-pico", voice="alloy", input=TEXT,
                                                            response_format="wav") as r:
        assert r.headers.get("transfer-encoding") == "chunked" and "content-length" not in r.headers, dict(r.headers)
        assert r.headers.get("content-type") == "audio/wav", r.headers.get("content-type")
        wav = b"".join(r.iter_bytes())
    f = wav_fields(wav)
    assert f["riff"] == b"RIFF" and f["wave"] == b"WAVE" and f["data"] == b"data", f
    assert f["size"] == 0xFFFFFFFF and f["dsize"] == 0xFFFFFFFF, "streaming header: sizes unknown"
    assert f["rate"] == 16000 and f["ch"] == 1 and f["bits"] == 16 and f["pcm"] == 1, f
    pcm_part = wav[44:]
    assert len(pcm_part) > 16000 and len(pcm_part) % 2 == 0, len(pcm_part)
    # pcm: the same samples without the header (same seed, a fresh stream per request)
    pcm = client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format="pcm").content
    assert pcm == pcm_part, f"pcm {len(pcm)} B differs from the wav's data {len(pcm_part)} B"
    # speed 2: shorter
    fast = client.audio.speech.create(model="tts-1", voice="alloy", input=TEXT, response_format="pcm", speed=2.0).content
    assert 0 < len(fast) < len(pcm) * 0.8, (len(fast), len(pcm))
    # curl: chunked, same bytes
    with tempfile.TemporaryDirectory() as d:
        out, hdr = os.path.join(d, "o.wav"), os.path.join(d, "h.txt")
        rc = subprocess.run(["curl", "-sS", "-N", "--max-time", "30", "-D", hdr, "-o", out, S.base() + "/v1/audio/speech",
                             "-H", "Content-Type: application/json", "-d", speech_body()]).returncode
        heads = open(hdr).read().lower()
        assert rc == 0 and " 200" in heads.splitlines()[0] and "transfer-encoding: chunked" in heads, heads
        assert open(out, "rb").read() == wav, "curl got different bytes than the openai client"


def t_first_bytes_before_synthesis_ends(S):
    # the audio of LONG is megabytes; with the client reading only its first 2 KiB the synthesis cannot have
    # finished (its output does not fit in the buffers), yet those bytes arrived: they left early
    s, got = stalled_request(S.http_port, read=2048)
    try:
        assert got.startswith(b"HTTP/1.1 200"), got[:100]
        assert b"RIFF" in got, "no audio yet"
        assert S.health()["streams_busy"] >= 1, "the synthesis should still be running"
    finally:
        s.close()
    assert S.wait_idle(15), "stream not released after the client closed"


def t_bad_requests_400(S):
    p = S.http_port
    cases = [
        (b'{"model": "edgegen-pico", "input": "hi"', "not valid JSON"),
        (b'[1, 2]', "JSON object"),
        (speech_body(input=5).encode(), "input: expected a string"),
        (speech_body(speed="fast").encode(), "speed: expected a number"),
        (speech_body(speed=9.0).encode(), "speed: expected 0.25 .. 4.0"),
        (speech_body(response_format="mp3").encode(), "not supported"),
        (speech_body(response_format=3).encode(), "response_format: expected a string"),
        (speech_body(model="whisper-1").encode(), "not found"),
        (speech_body(model=["x"]).encode(), "model: expected a string"),
        (speech_body(voice={"id": 1}).encode(), "voice: expected a string"),
        (json.dumps({"model": "edgegen-pico", "voice": "x"}).encode(), "input: required"),
        (speech_body(input="?!...").encode(), "no text to synthesize"),
        (speech_body(input="x" * 5000).encode(), "over the limit"),
        (b'{"model": "edgegen-pico", "input": "hi", "voice": "v"} trailing', "after its JSON"),
    ]
    for body, want in cases:
        st, _, data = post(p, body)
        msg = one_line_error(st, data, 400)
        assert want in msg, f"{body[:60]!r}: message {msg!r} lacks {want!r}"
    # the openai client maps it to BadRequestError with the message
    client = openai.OpenAI(base_url=S.base() + "/v1", api_key="unused", max_retries=0)
    try:
        client.audio.speech.create(model="edgegen-pico", voice="x", input="   ")
        raise AssertionError("no error for empty input")
    except openai.BadRequestError as e:
        assert "no text to synthesize" in str(e), str(e)
    # unknown path / method
    c = http.client.HTTPConnection("127.0.0.1", p, timeout=10)
    c.request("GET", "/v1/audio/speech")
    r = c.getresponse()
    one_line_error(r.status, r.read(), 405)
    c.request("GET", "/nope")
    r = c.getresponse()
    one_line_error(r.status, r.read(), 404)
    c.close()
    assert S.health()["status"] == "ok"


def t_body_over_limit_413(S):
    big = speech_body(input="word " * 2000).encode()   # > --max-body 8192
    st, _, data = post(S.http_port, big)
    msg = one_line_error(st, data, 413)
    assert "limit" in msg, msg
    # chunked upload without Content-Length: read on (discarded) and answered 413 at its end
    s = socket.create_connection(("127.0.0.1", S.http_port))
    s.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Transfer-Encoding: chunked\r\n\r\n")
    for i in range(0, len(big), 1000):
        piece = big[i:i + 1000]
        s.sendall(b"%x\r\n" % len(piece) + piece + b"\r\n")
    s.sendall(b"0\r\n\r\n")
    s.settimeout(10)
    got = b""
    while b"\r\n\r\n" not in got or not got.rstrip().endswith(b"}"):
        k = s.recv(4096)
        if not k:
            break
        got += k
    s.close()
    head, _, body = got.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 413"), got[:200]
    assert b"over the limit" in body, body


def t_pool_full_429_then_released(S):
    n = S.health()["streams"]
    held = [stalled_request(S.http_port, read=600)[0] for _ in range(n)]
    try:
        assert S.health()["streams_busy"] == n, S.health()
        t0 = time.time()
        st, hd, data = post(S.http_port, speech_body().encode())
        waited = time.time() - t0
        msg = one_line_error(st, data, 429)
        assert "busy" in msg and hd.get("retry-after") == "1", (msg, hd)
        assert waited >= 0.25, f"refused after {waited:.2f} s, before --queue-timeout 0.3"
        # Wyoming gets the same refusal as an error event
        async def wy():
            async with AsyncTcpClient("127.0.0.1", S.wy_port) as c:
                await c.write_event(Synthesize(text=TEXT).event())
                return await wy_collect(c, "audio-stop")
        evs = asyncio.run(wy())
        assert Error.is_type(evs[-1].type) and Error.from_event(evs[-1]).code == "busy", evs[-1]
    finally:
        for s in held:
            s.close()
    assert S.wait_idle(15), "streams of closed clients not released"
    st, _, data = post(S.http_port, speech_body().encode())
    assert st == 200 and len(data) > 44, st


def t_disconnect_releases_context(S1):
    # --streams 1 --queue-timeout 0: the next request gets the one context only if the dropped one gave it back
    s, _ = stalled_request(S1.http_port, read=4096)
    assert S1.health()["streams_busy"] == 1
    s.close()
    assert S1.wait_idle(10), "context not released after the client disconnected"
    st, _, data = post(S1.http_port, speech_body().encode())
    assert st == 200 and len(data) > 44, (st, data[:200])
    assert "cut" not in S1.stderr()


def t_stalled_reader_timeout(S1):
    # --timeout 2: a client that stops reading is dropped and its context released, without closing anything itself
    s, _ = stalled_request(S1.http_port, read=600)
    try:
        t0 = time.time()
        assert S1.health()["streams_busy"] == 1
        assert S1.wait_idle(12), "stalled reader still holds the context"
        took = time.time() - t0
        assert took >= 1.0, f"dropped after {took:.1f} s, before --timeout 2"
    finally:
        s.close()
    st, _, _ = post(S1.http_port, speech_body().encode())
    assert st == 200


def t_slow_body_timeout(S1):
    s = socket.create_connection(("127.0.0.1", S1.http_port))
    s.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n{\"model\":")
    s.settimeout(15)
    t0 = time.time()
    got = b""
    try:
        while True:
            k = s.recv(4096)
            if not k:
                break
            got += k
    except socket.timeout:
        raise AssertionError("server kept a half-sent request open for 15 s")
    finally:
        s.close()
    took = time.time() - t0
    assert took >= 1.0, f"closed after {took:.1f} s (timeout is 2 s)"
    # a body that trickles in, one byte per 0.3 s: the connection is closed at the deadline (--timeout 2)
    s = socket.create_connection(("127.0.0.1", S1.http_port))
    s.sendall(b"POST /v1/audio/speech HTTP/1.1\r\nHost: x\r\nContent-Length: 200\r\n\r\n")
    t0 = time.time()
    closed = False
    while time.time() - t0 < 15 and not closed:
        try:
            s.send(b" ")
            time.sleep(0.3)
        except OSError:
            closed = True
    s.close()
    took = time.time() - t0
    assert closed and 1.5 <= took < 10, f"closed={closed} after {took:.1f} s"
    assert "not received within" in S1.stderr()
    assert S1.health()["status"] == "ok"


def t_wyoming_describe(S):
    async def go():
        async with AsyncTcpClient("127.0.0.1", S.wy_port) as c:
            await c.write_event(Describe().event())
            ev = await asyncio.wait_for(c.read_event(), 10)
            return Info.from_event(ev)
    info = asyncio.run(go())
    assert len(info.tts) == 1, info
    prog = info.tts[0]
    assert prog.name == "edgegen" and prog.installed and prog.supports_synthesize_streaming, prog
    assert prog.voices[0].name == "edgegen-pico" and prog.voices[0].languages == ["en_US"], prog.voices


def http_pcm(S, text):
    st, _, data = post(S.http_port, speech_body(text, response_format="pcm").encode())
    assert st == 200
    return data


def t_wyoming_synthesize(S):
    async def go():
        async with AsyncTcpClient("127.0.0.1", S.wy_port) as c:
            await c.write_event(Synthesize(text=TEXT).event())
            return await wy_collect(c, "audio-stop")
    evs = asyncio.run(go())
    assert AudioStart.is_type(evs[0].type) and AudioStop.is_type(evs[-1].type), [e.type for e in evs]
    st = AudioStart.from_event(evs[0])
    assert (st.rate, st.width, st.channels) == (16000, 2, 1), st
    chunks = [AudioChunk.from_event(e) for e in evs if AudioChunk.is_type(e.type)]
    assert len(chunks) > 2 and all((c.rate, c.width, c.channels) == (16000, 2, 1) for c in chunks)
    assert all(len(c.audio) <= 2048 for c in chunks), "chunks of at most 1024 samples"
    assert audio_of(evs) == http_pcm(S, TEXT), "Wyoming audio differs from the HTTP pcm of the same text"


def t_wyoming_streaming(S):
    async def go():
        async with AsyncTcpClient("127.0.0.1", S.wy_port) as c:
            await c.write_event(SynthesizeStart().event())
            await c.write_event(SynthesizeChunk(text="Hello the").event())
            await c.write_event(SynthesizeChunk(text="re. How are").event())
            # the first sentence is complete: its audio must come before we send anything more
            first = []
            while True:
                ev = await asyncio.wait_for(c.read_event(), 10)
                first.append(ev)
                if AudioChunk.is_type(ev.type):
                    break
            await c.write_event(SynthesizeChunk(text=" you today?").event())
            await c.write_event(Synthesize(text="Hello there. How are you today?").event())   # HA sends it: ignored
            await c.write_event(SynthesizeStop().event())
            rest = await wy_collect(c, "synthesize-stopped")
            return first, rest
    first, rest = asyncio.run(go())
    assert AudioStart.is_type(first[0].type), [e.type for e in first]
    assert SynthesizeStopped.is_type(rest[-1].type), [e.type for e in rest][-5:]
    types = [e.type for e in first + rest]
    assert types.count("audio-start") == 1 and types.count("audio-stop") == 1, "one audio stream"
    assert types.index("audio-stop") == len(types) - 2, "audio-stop just before synthesize-stopped"
    got = audio_of(first + rest)
    want = http_pcm(S, "Hello there. How are you today?")
    assert got == want, f"streamed audio ({len(got)} B) differs from one request of the whole text ({len(want)} B)"


def t_wyoming_bad_frames(S):
    p = S.wy_port
    # a length over the limit: refused at once
    got, closed = raw_wy(p, b'{"type": "synthesize", "data_length": 1000000000}\n')
    t, d = first_event(got)
    assert t == "error" and d["code"] == "protocol" and "over the limit" in d["text"] and closed, (t, d, closed)
    # a length that is not an integer
    got, closed = raw_wy(p, b'{"type": "synthesize", "payload_length": -5}\n')
    t, d = first_event(got)
    assert t == "error" and "non-negative integer" in d["text"] and closed, d
    # a length that lies (more than is sent): dropped after --timeout
    t0 = time.time()
    got, closed = raw_wy(p, b'{"type": "synthesize", "data_length": 50}\n{"text":', read_timeout=15)
    t, d = first_event(got)
    assert t == "error" and d["code"] == "timeout" and closed and time.time() - t0 >= 1.0, (d, closed)
    # a length that lies (less than is sent): the rest is not an event
    got, closed = raw_wy(p, b'{"type": "synthesize", "data_length": 5}\n{"text": "hello"}\n')
    t, d = first_event(got)
    assert t == "error" and d["code"] == "protocol" and closed, d
    # a header line that never ends: refused at the line limit without waiting
    t0 = time.time()
    got, closed = raw_wy(p, b'{"type": "' + b"x" * 9000)
    t, d = first_event(got)
    assert t == "error" and "without a newline" in d["text"] and closed and time.time() - t0 < 5, d
    # ... or stops half-way: dropped after --timeout
    got, closed = raw_wy(p, b'{"type": "descr', read_timeout=15)
    t, d = first_event(got)
    assert t == "error" and d["code"] == "timeout" and closed, d
    # not JSON, and a text of the wrong type (the connection stays usable for the second)
    got, closed = raw_wy(p, b"hello\n")
    assert first_event(got)[0] == "error" and closed
    async def go():
        async with AsyncTcpClient("127.0.0.1", p) as c:
            await c.write_event(Event(type="synthesize", data={"text": 5}))
            e1 = await asyncio.wait_for(c.read_event(), 10)
            await c.write_event(Event(type="synthesize", data={"text": "Fine.", "voice": {"name": "nobody"}}))
            e2 = await asyncio.wait_for(c.read_event(), 10)
            await c.write_event(Describe().event())
            e3 = await asyncio.wait_for(c.read_event(), 10)
            return e1, e2, e3
    e1, e2, e3 = asyncio.run(go())
    assert Error.is_type(e1.type) and "not a string" in e1.data["text"], e1
    assert Error.is_type(e2.type) and e2.data["code"] == "unknown-voice", e2
    assert Info.is_type(e3.type), e3
    assert S.health()["streams_busy"] == 0


def t_wyoming_disconnect_releases(S1):
    # --streams 1: a Wyoming client that vanishes mid-stream gives the context back
    s = socket.create_connection(("127.0.0.1", S1.wy_port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    data = json.dumps({"text": LONG}).encode()
    s.sendall(json.dumps({"type": "synthesize", "data_length": len(data)}).encode() + b"\n" + data)
    s.settimeout(10)
    s.recv(1000)
    assert S1.health()["streams_busy"] == 1
    s.close()
    assert S1.wait_idle(10), "Wyoming stream not released after disconnect"
    st, _, _ = post(S1.http_port, speech_body().encode())
    assert st == 200


def t_sigterm_drains(edgegen):
    S = Server(edgegen, "--streams", "2", "--drain-timeout", "60")
    try:
        c = http.client.HTTPConnection("127.0.0.1", S.http_port, timeout=60)
        c.request("POST", "/v1/audio/speech", body=speech_body(LONG, response_format="pcm"),
                  headers={"Content-Type": "application/json"})
        r = c.getresponse()
        head = r.read(1000)
        assert r.status == 200 and len(head) == 1000
        S.p.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        assert S.p.poll() is None, "exited with a stream in flight"
        # new connections are refused while draining
        try:
            socket.create_connection(("127.0.0.1", S.http_port), timeout=2).close()
            refused = False
        except OSError:
            refused = True
        assert refused, "still accepting after SIGTERM"
        rest = r.read()   # raises IncompleteRead if the stream were cut
        c.close()
        rc = S.p.wait(30)
        assert rc == 0, f"exit {rc}"
        total = 1000 + len(rest)
        assert total > 100000 and total % 2 == 0, total
        err = S.stderr()
        assert "draining 1 stream" in err and "cut" not in err, err[-500:]
    finally:
        S.stop()


def t_queue_waits_for_a_free_stream(edgegen):
    # --streams 1 --queue-timeout 20: a request beyond the pool waits (counted in /health "waiting") and is served
    # as soon as the stream comes free, not refused
    S = Server(edgegen, "--streams", "1", "--queue-timeout", "20", wyoming=False)
    try:
        held, _ = stalled_request(S.http_port, read=600)
        out = {}
        def req():
            t0 = time.time()
            out["r"] = post(S.http_port, speech_body().encode())
            out["t"] = time.time() - t0
        t = threading.Thread(target=req)
        t.start()
        deadline = time.time() + 10
        while S.health()["waiting"] != 1 and time.time() < deadline:
            time.sleep(0.05)
        assert S.health()["waiting"] == 1, "the second request is not queued"
        time.sleep(0.5)
        held.close()
        t.join(30)
        st, _, data = out["r"]
        assert st == 200 and len(data) > 44 and out["t"] >= 0.5, (st, out["t"])
        assert S.health()["refused_busy"] == 0
    finally:
        assert S.stop() == 0


def t_cli_errors(edgegen):
    def run(*args):
        p = subprocess.run([edgegen, "serve", *args], capture_output=True, text=True, timeout=60,
                           env=dict(os.environ, EDGEGEN_BACKEND="cpu"))
        return p.returncode, p.stdout, p.stderr
    rc, out, err = run("--help")
    assert rc == 0 and all(o in out for o in ("--wyoming", "--http", "--streams", "--queue-timeout", "--timeout",
                                              "--drain-timeout", "--max-body", "--draft", "--spec-k", "SIGTERM")), out[:200]
    m = ["-m", AR, "--codec", CODEC]
    for args, want_rc, want in [
        (["--streams", "0"], 2, "invalid value '0' for --streams"),
        (["--bogus"], 2, "unknown option"),
        (["--timeout"], 2, "needs a value"),
        (m + ["--spec-k", "3"], 2, "--spec-k needs --draft"),
        (m + ["--draft", AR, "--spec-k", "9"], 2, "invalid value '9' for --spec-k"),
        (m + ["--wyoming", "http://127.0.0.1:1"], 1, "expected tcp://HOST:PORT"),
        (m + ["--http", "127.0.0.1:99999"], 1, "PORT: expected 1 .. 65535"),
        (["-m", "tests/golden/no-such.gguf", "--codec", CODEC], 1, "no-such.gguf"),
        # the tiny test model as the shipped model's draft: other tokens/phonemes, refused before listening
        (["-m", SHIPPED_AR, "--draft", AR, "--http", f"127.0.0.1:{free_port()}"], 1, "draft model: "),
    ]:
        rc, out, err = run(*args)
        lines = err.strip().splitlines()
        assert rc == want_rc and lines and want in lines[-1] and not out and "ready" not in err, (args, rc, err)
    with socket.socket() as busy:   # the port is taken: one line, exit 1
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        rc, out, err = run(*m, "--http", f"127.0.0.1:{busy.getsockname()[1]}")
        assert rc == 1 and "cannot listen" in err and "ready" not in err, err


def t_draft_same_audio(edgegen):
    """--draft: the shipped model with its distilled draft at temperature 0 sends the same PCM as without the draft
    (speculative decoding changes only the speed), and /health shows the draft was used (a draft that does not match
    the model: t_cli_errors)."""
    body = speech_body(text="The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background.",
                       response_format="pcm")
    pcm = {}
    for name, extra in (("plain", ()), ("draft", ("--draft", SHIPPED_DRAFT, "--spec-k", "3"))):
        S = Server(edgegen, "--streams", "1", "--temperature", "0", *extra, wyoming=False, models=("-m", SHIPPED_AR))
        try:
            st, hd, pcm[name] = post(S.http_port, body, timeout=120)
            assert st == 200 and len(pcm[name]) > 16000, (name, st, pcm[name][:200])
            hl = S.health()
            if name == "draft":
                sp = hl["speculative"]
                assert sp["k"] == 3 and sp["rounds"] > 0 and 0 < sp["drafted"] <= 3 * sp["rounds"] \
                    and 0 <= sp["accepted"] <= sp["drafted"], sp
                assert "draft " + SHIPPED_DRAFT in S.stderr(), S.stderr()[-400:]
            else:
                assert "speculative" not in hl, hl
        finally:
            assert S.stop() == 0, S.tail
    assert pcm["plain"] == pcm["draft"], (len(pcm["plain"]), len(pcm["draft"]))


TESTS = [
    ("draft_same_audio", "E", t_draft_same_audio),
    ("cli_errors", "E", t_cli_errors),
    ("queue_waits_for_a_free_stream", "E", t_queue_waits_for_a_free_stream),
    ("health_and_models", "S", t_health_and_models),
    ("openai_wav_pcm_curl", "S", t_openai_wav_pcm_curl),
    ("first_bytes_before_synthesis_ends", "S", t_first_bytes_before_synthesis_ends),
    ("bad_requests_400", "S", t_bad_requests_400),
    ("body_over_limit_413", "S", t_body_over_limit_413),
    ("pool_full_429_then_released", "S", t_pool_full_429_then_released),
    ("wyoming_describe", "S", t_wyoming_describe),
    ("wyoming_synthesize", "S", t_wyoming_synthesize),
    ("wyoming_streaming", "S", t_wyoming_streaming),
    ("wyoming_bad_frames", "S", t_wyoming_bad_frames),
    ("disconnect_releases_context", "S1", t_disconnect_releases_context),
    ("stalled_reader_timeout", "S1", t_stalled_reader_timeout),
    ("slow_body_timeout", "S1", t_slow_body_timeout),
    ("wyoming_disconnect_releases", "S1", t_wyoming_disconnect_releases),
    ("sigterm_drains", "E", t_sigterm_drains),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--edgegen", default="build/edgegen")
    ap.add_argument("-k", default="")
    a = ap.parse_args()
    if not shutil.which("curl"):
        print("FAIL curl not found")
        print("0 passed, 1 failed, 0 skipped")
        return 1
    servers = {}
    npass = nfail = 0
    try:
        for name, which, fn in TESTS:
            if a.k not in name:
                continue
            try:
                if which == "S" and "S" not in servers:
                    servers["S"] = Server(a.edgegen, "--streams", "2", "--queue-timeout", "0.3", "--timeout", "2",
                                          "--max-body", "8192")
                if which == "S1" and "S1" not in servers:
                    servers["S1"] = Server(a.edgegen, "--streams", "1", "--queue-timeout", "0", "--timeout", "2")
                fn(a.edgegen if which == "E" else servers[which])
                print(f"ok   {name}", flush=True)
                npass += 1
            except Exception as e:
                nfail += 1
                print(f"FAIL {name}: {type(e).__name__}: {e}", flush=True)
                traceback.print_exc(limit=3)
                if which in servers:
                    print("  server log tail: " + servers[which].stderr()[-800:].replace("\n", "\n  "))
        for k, S in servers.items():   # every server still up and exits 0 on SIGTERM
            if S.p.poll() is not None:
                nfail += 1
                print(f"FAIL server {k} died: exit {S.p.returncode}\n{S.stderr()[-800:]}")
                continue
            rc = S.stop()
            if rc == 0:
                npass += 1
                print(f"ok   server {k} exits 0 on SIGTERM")
            else:
                nfail += 1
                print(f"FAIL server {k} exit {rc} on SIGTERM:\n{S.tail}")
    finally:
        for S in servers.values():
            if S.p.poll() is None:
                S.stop()
    print(f"{npass} passed, {nfail} failed, 0 skipped")
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
