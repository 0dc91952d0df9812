"""Memory and connection limits of the real s3ha (issue 17, items 3, 8 and 9), on raw sockets
against s3rver, always checking the BACKEND directly:

- a sha256-signed PUT with HTTP chunked transfer coding streams in bounded memory (s3ha's peak
  RSS), and a wrong hash leaves nothing committed;
- a connection over server.max_connections is refused at once with 503 SlowDown, without its
  request being read;
- server.body_min_rate cuts off a client that drips its body (each wait shorter than
  body_read_timeout) with 400 RequestTimeout, and lets a slow but steady one through;
- server.max_aws_chunk_buffer_per_worker: a signed aws-chunked upload that cannot get room for
  its chunk gets 503 SlowDown (Retry-After) and stores nothing, the one holding the room
  completes byte-identical;
- the admin endpoints answer JSON (never drop the connection) for a backend name that is not
  UTF-8.
"""

from __future__ import annotations

import hashlib
import json
import os
import select
import socket
import time

import pytest

from harness import rawclient, rawhttp
from harness.s3util import (MIB, assert_not_committed, backend_bytes, backend_sha256,
                            empty_and_delete)
from harness.sigv4 import UNSIGNED_PAYLOAD

pytestmark = [pytest.mark.s3ha, pytest.mark.s3rver]


@pytest.fixture
def bucket(s3rver_backend, unique_bucket):
    s3rver_backend.create_bucket(unique_bucket)
    yield unique_bucket
    empty_and_delete(s3rver_backend, unique_bucket)


def _port(p) -> int:
    return rawhttp.port_of(p.endpoint)


def _connect(p, timeout: float = 30) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", _port(p)), timeout=timeout)
    sock.settimeout(timeout)
    return sock


def _head_bytes(p, path: str, payload_hash: str, headers: dict[str, str],
                unsigned: dict[str, str] | None = None) -> bytes:
    """A signed PUT header section (no body)."""
    s = rawclient.sign_for(p, "PUT", path, payload_hash=payload_hash, headers=headers)
    return rawhttp.request_bytes("PUT", rawclient.encoded_target(path),
                                 {**s.headers, **(unsigned or {})})


def _response(sock: socket.socket, timeout: float) -> rawhttp.Message:
    sock.settimeout(timeout)
    return rawhttp.read_response(rawhttp.Reader(sock), "PUT")


# -- 3: a sha256-signed PUT with HTTP chunked transfer coding streams in bounded memory -----------
BIG = 192 * MIB
RSS_LIMIT_KIB = 64 * 1024


def _big_blocks(base: bytes):
    """BIG bytes as 192 distinct 1 MiB blocks (a dropped, repeated or reordered block changes the
    hash), made on the fly: the test never holds the body."""
    for i in range(BIG // MIB):
        yield i.to_bytes(8, "big") + base[8:]


@pytest.mark.slow
@pytest.mark.parametrize("signed_hash", ["right", "wrong"])
def test_sha256_signed_chunked_put_streams_in_bounded_memory(s3rver_backend, bucket,
                                                             proxy_factory, signed_hash):
    p = proxy_factory([s3rver_backend], logging={"level": "debug"})
    base = os.urandom(MIB)
    h = hashlib.sha256()
    for blk in _big_blocks(base):
        h.update(blk)
    digest = h.hexdigest()
    signed = digest if signed_hash == "right" else hashlib.sha256(b"another body").hexdigest()
    key = f"chunked-{signed_hash}.bin"
    path = f"/{bucket}/{key}"
    # As real clients do, Transfer-Encoding is not signed (framing: s3ha rebuilds it).
    head = _head_bytes(p, path, signed, {}, unsigned={"transfer-encoding": "chunked"})
    sock = _connect(p, timeout=120)
    try:
        sock.sendall(head)
        for blk in _big_blocks(base):
            sock.sendall(b"%x\r\n" % len(blk) + blk + b"\r\n")
        sock.sendall(b"0\r\n\r\n")
        resp = _response(sock, 120)
    finally:
        sock.close()
    peak = p.rss_peak_kib()
    print(f"s3ha peak RSS after a {BIG // MIB} MiB chunked PUT ({signed_hash} hash): {peak} KiB")
    if signed_hash == "right":
        assert resp.status == 200, (resp.status, resp.body[:300])
        assert backend_sha256(s3rver_backend, bucket, key) == (digest, BIG)
    else:
        assert resp.status == 400 and resp.s3_code == "XAmzContentSHA256Mismatch", (
            resp.status, resp.body[:300])
        assert_not_committed(s3rver_backend, bucket, key, BIG)
    # The body never sat in s3ha's memory (it kept all 192 MiB before: peak RSS 283 MiB).
    assert peak is not None and peak < RSS_LIMIT_KIB, f"s3ha peak RSS {peak} KiB"


# -- 8a: over max_connections: refused at accept, the request is never read ----------------------
def _held_connection(p) -> rawhttp.Conn:
    """A connection s3ha accepted and served, kept open (keep-alive). A connection a client just
    closed may still count for a moment (s3ha learns of the close when it reads EOF), so a 503
    here is retried for a bounded time."""
    deadline = time.monotonic() + 10
    while True:
        c = rawhttp.Conn(_port(p), timeout=10)
        s = rawclient.sign_for(p, "GET", "/")
        c.send(rawhttp.request_bytes("GET", "/", s.headers))
        if c.response("GET").status == 200:
            return c
        c.close()
        assert time.monotonic() < deadline, "the allowed connections are not served"
        time.sleep(0.1)


def _assert_slowdown(r: rawhttp.Message) -> None:
    assert r.status == 503, (r.status, r.body[:300])
    assert r.s3_code == "SlowDown", r.body[:300]
    assert r.h.get("retry-after") == "1", r.headers
    assert r.h.get("connection", "").lower() == "close", r.headers


def test_over_max_connections_refused_at_once_without_reading_the_request(s3rver_backend,
                                                                         proxy_factory):
    # header_read_timeout 30 s: an answer within the 10 s we wait shows no header was awaited.
    p = proxy_factory([s3rver_backend], server={"max_connections": 2,
                                                "header_read_timeout": "30s"})
    held = [_held_connection(p), _held_connection(p)]
    try:
        t0 = time.monotonic()
        with rawhttp.Conn(_port(p), timeout=10) as silent:  # sends nothing at all
            try:
                r = silent.response("GET")
            except socket.timeout:
                pytest.fail("the connection over max_connections got no answer within 10 s: "
                            "s3ha waits for its request (header_read_timeout 30 s)")
            except (rawhttp.Closed, ConnectionResetError):
                pytest.fail("the connection over max_connections was closed without an answer")
            elapsed = time.monotonic() - t0
            _assert_slowdown(r)
            assert silent.closed_by_peer(timeout=5), "s3ha did not close the refused connection"
        assert elapsed < 5, f"answered after {elapsed:.1f}s"

        # A client that sends a request and a body at once still reads the answer: s3ha
        # half-closes and discards what it sends (a lingering close) instead of resetting.
        with rawhttp.Conn(_port(p), timeout=10) as eager:
            body = os.urandom(200 * 1024)
            s = rawclient.sign_for(p, "PUT", "/x/eager", body=body)
            try:
                eager.send(rawhttp.request_bytes("PUT", "/x/eager", s.headers, body))
            except (BrokenPipeError, ConnectionResetError):
                pytest.fail("s3ha reset the refused connection while the client was sending")
            _assert_slowdown(eager.response("PUT"))

        held.pop().close()  # a slot frees up: served again
        c = _held_connection(p)
        held.append(c)
    finally:
        for c in held:
            c.close()
    log = p.wait_log("the request is not read")
    assert "server.max_connections (2) reached" in log


# -- 8b: server.body_min_rate --------------------------------------------------------------------
def _drip_put(p, path: str, size: int, piece: int, interval: float,
              limit: float) -> tuple[rawhttp.Message | None, float, int]:
    """An UNSIGNED-PAYLOAD PUT of `size` bytes sent `piece` bytes every `interval` seconds,
    watching for an early answer between pieces; gives up after `limit` seconds. Returns the
    response (None when none came), the seconds from the first body byte to the answer and the
    body bytes sent."""
    data = bytes(range(256)) * (size // 256 + 1)
    data = data[:size]
    sock = _connect(p)
    try:
        sock.sendall(_head_bytes(p, path, UNSIGNED_PAYLOAD, {"content-length": str(size)}))
        t0 = time.monotonic()
        sent = 0
        while time.monotonic() - t0 < limit:
            if sent < size:
                try:
                    sock.sendall(data[sent:sent + piece])
                    sent += min(piece, size - sent)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # answered and closed: read the answer below
            if select.select([sock], [], [], interval)[0]:
                resp = _response(sock, 10)
                return resp, time.monotonic() - t0, sent
        return None, time.monotonic() - t0, sent
    finally:
        sock.close()


def test_body_below_min_rate_gets_request_timeout_and_stores_nothing(s3rver_backend, bucket,
                                                                    proxy_factory):
    p = proxy_factory([s3rver_backend], logging={"level": "debug"},
                      server={"body_read_timeout": "3s", "body_min_rate": "1KiB"})
    size = 100_000
    # 100 bytes a second: every wait (1 s) is shorter than body_read_timeout (3 s), so a
    # per-read timeout alone never ends it (100 KB would take 1000 s). With the minimum rate the
    # body has 3 s + 0.1 s per second of waiting: cut off after about 3.3 s.
    resp, elapsed, sent = _drip_put(p, f"/{bucket}/drip", size, 100, 1.0, limit=30)
    assert resp is not None, f"no answer after {elapsed:.0f}s and {sent} bytes: never cut off"
    assert resp.status == 400 and resp.s3_code == "RequestTimeout", (resp.status, resp.body[:300])
    assert resp.h.get("connection", "").lower() == "close", resp.headers
    assert 2.5 < elapsed < 20, f"cut off after {elapsed:.1f}s"
    assert sent < size
    p.wait_log("client below server.body_min_rate")
    assert_not_committed(s3rver_backend, bucket, "drip", size)


def test_body_at_min_rate_or_faster_passes(s3rver_backend, bucket, proxy_factory):
    p = proxy_factory([s3rver_backend], server={"body_read_timeout": "3s",
                                                "body_min_rate": "1KiB"})
    # 2 KiB a second for 6 s: longer in total than body_read_timeout, but above the rate.
    size = 12 * 1024
    resp, elapsed, sent = _drip_put(p, f"/{bucket}/steady", size, 2048, 1.0, limit=60)
    assert resp is not None and resp.status == 200, (resp and resp.status, resp and resp.body)
    assert sent == size and elapsed > 3
    data = (bytes(range(256)) * (size // 256 + 1))[:size]
    assert backend_bytes(s3rver_backend, bucket, "steady") == data
    # And a normal upload, at full speed.
    big = os.urandom(8 * MIB)
    p.client().put_object(Bucket=bucket, Key="fast", Body=big)
    assert backend_sha256(s3rver_backend, bucket, "fast") == (hashlib.sha256(big).hexdigest(),
                                                              len(big))


# -- 8c: server.max_aws_chunk_buffer_per_worker --------------------------------------------------
def _server_rx_queue(server_port: int, client_port: int) -> int | None:
    """Bytes s3ha's end of the connection client_port -> server_port (127.0.0.1) has received
    but not read yet (rx_queue of /proc/net/tcp); None when there is no such connection."""
    local, remote = f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}"
    with open("/proc/net/tcp") as f:
        for line in f.readlines()[1:]:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                return int(fields[4].split(":")[1], 16)
    return None


def _wait_read_by_s3ha(p, sock: socket.socket, timeout: float = 10) -> None:
    """Until s3ha has read everything sent on sock (so what it holds is decided)."""
    client_port = sock.getsockname()[1]
    deadline = time.monotonic() + timeout
    while _server_rx_queue(_port(p), client_port) != 0:
        assert time.monotonic() < deadline, "s3ha does not read what the client sent"
        time.sleep(0.05)


def test_aws_chunk_buffer_per_worker_refuses_a_second_held_chunk(s3rver_backend, bucket,
                                                                 proxy_factory):
    chunk = 64 * 1024
    p = proxy_factory([{"backend": s3rver_backend, "aws_chunked": "decode"}],
                      logging={"level": "debug"},
                      server={"workers": 1, "max_aws_chunk_size": "64KiB",
                              "max_aws_chunk_buffer_per_worker": "64KiB"})
    data_a = os.urandom(200 * 1024)  # chunks of 64, 64, 64 and 8 KiB
    data_b = os.urandom(100 * 1024)
    up_a = rawclient.streaming_put(p, f"/{bucket}/holder", data_a, chunk)
    up_b = rawclient.streaming_put(p, f"/{bucket}/refused", data_b, chunk)
    head_a = rawhttp.request_bytes("PUT", up_a.target, up_a.headers)
    head_b = rawhttp.request_bytes("PUT", up_b.target, up_b.headers)
    first_a = up_a.encoded.data_offsets[0] + chunk // 2  # half of A's first chunk

    a = _connect(p)
    try:
        a.sendall(head_a + up_a.body[:first_a])
        _wait_read_by_s3ha(p, a)  # A now holds a 64 KiB chunk buffer: the whole budget

        b = _connect(p)
        try:
            b.sendall(head_b + up_b.body[:up_b.encoded.data_offsets[0] + 1024])
            try:
                rb = _response(b, 10)
            except socket.timeout:
                pytest.fail("the second chunk buffer was granted: no answer while A holds it")
        finally:
            b.close()
        _assert_slowdown(rb)
        assert rb.h.get("x-amz-request-id"), rb.headers

        a.sendall(up_a.body[first_a:])
        ra = _response(a, 30)
    finally:
        a.close()
    assert ra.status == 200, (ra.status, ra.body[:300])
    assert backend_bytes(s3rver_backend, bucket, "holder") == data_a
    assert_not_committed(s3rver_backend, bucket, "refused", len(data_b))
    p.wait_log("server.max_aws_chunk_buffer_per_worker (65536 bytes) is in use")

    # The budget is free again: the same upload goes through now.
    up_b2 = rawclient.streaming_put(p, f"/{bucket}/refused", data_b, chunk)
    r = rawhttp.roundtrip(_port(p), "PUT", up_b2.target, up_b2.headers, up_b2.body)
    assert r.status == 200, (r.status, r.body[:300])
    assert backend_bytes(s3rver_backend, bucket, "refused") == data_b


# -- 9: admin input that is not UTF-8 -------------------------------------------------------------
@pytest.mark.parametrize("name", [b"\xff", b"%FF", b"b0\xc3"], ids=["raw-ff", "percent-ff",
                                                                    "truncated-utf8"])
def test_admin_drain_of_a_non_utf8_name_answers_json_404(s3rver_backend, s3ha_factory, name):
    p = s3ha_factory([s3rver_backend])
    admin_port = rawhttp.port_of(p.admin_endpoint)
    for action in (b"drain", b"enable"):
        req = (b"POST /admin/backends/" + name + b"/" + action + b" HTTP/1.1\r\n"
               b"Host: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
        with rawhttp.Conn(admin_port, timeout=10) as c:
            c.send(req)
            try:
                r = c.response("POST")
            except (rawhttp.Closed, ConnectionResetError):
                pytest.fail(f"the admin listener dropped the connection of {req[:40]!r}")
        assert r.status == 404, (r.status, r.body[:300])
        assert r.h.get("content-type") == "application/json", r.headers
        j = json.loads(r.body.decode("utf-8"))  # valid UTF-8 and valid JSON
        assert j["error"].startswith("no backend named "), j
    # The admin listener still serves, and nothing was drained.
    with rawhttp.Conn(admin_port, timeout=10) as c:
        c.send(b"GET /admin/backends HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        r = c.response("GET")
    assert r.status == 200
    assert [b["drained"] for b in json.loads(r.body)["backends"]] == [False]
