"""A large download (>= 1 MiB, plain TCP on both sides: s3ha moves it with splice(2)) where one
side stops moving: a backend that stops sending (SIGSTOP) or a client that stops reading. s3ha
must cut the transfer off after the configured idle deadline (routing.retries.idle_timeout
upstream, server.idle_timeout downstream) instead of waiting forever, never make the short body
look complete, and keep serving other requests. Also a download through the same path that
completes is byte-identical.

The upload direction: unsigned (UNSIGNED-PAYLOAD, presigned) and sha256-signed PUTs larger than
the replay buffer (so they cannot be replayed) must store byte-identical data; a client that
disconnects or stalls mid-body must leave no object on the backend (Swift; s3rver keeps a shorter
one, see assert_not_committed) and s3ha must keep serving; a stalled one gets 400 RequestTimeout.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import socket
import struct
import time

import pytest

from harness import rawclient, rawhttp
from harness.backends import S3rverBackend
from harness.s3util import MIB, assert_not_committed, backend_sha256
from harness.sigv4 import UNSIGNED_PAYLOAD, presign_query

pytestmark = [pytest.mark.s3ha, pytest.mark.s3rver]

SIZE = 96 * MIB  # far more than the socket buffers and the 1 MiB pipe hold together


def _get(p, path, timeout) -> http.client.HTTPConnection:
    s = rawclient.sign_for(p, "GET", path)
    conn = http.client.HTTPConnection("127.0.0.1", int(p.endpoint.rsplit(":", 1)[1]),
                                      timeout=timeout)
    conn.putrequest("GET", path, skip_host=True, skip_accept_encoding=True)
    for k, v in s.headers.items():
        conn.putheader(k, v)
    conn.endheaders()
    return conn


def _drain(resp, deadline: float) -> int:
    """Reads until the connection ends (EOF or reset); the bytes read. http.client returns a short
    body without raising: the client sees the truncation against the Content-Length."""
    got = 0
    try:
        while time.monotonic() < deadline:
            blk = resp.read(MIB)
            if not blk:
                return got
            got += len(blk)
    except (http.client.IncompleteRead, ConnectionError):
        return got
    pytest.fail(f"still reading after the deadline ({got} bytes)")


@pytest.fixture
def big_object(tmp_path, unique_bucket):
    b = S3rverBackend(tmp_path / "stall", buckets=[unique_bucket])
    data = os.urandom(SIZE)
    b.client(read_timeout=120).put_object(Bucket=unique_bucket, Key="big", Body=io.BytesIO(data))
    yield b, unique_bucket, hashlib.sha256(data).hexdigest()
    b.resume()
    b.stop()


def test_large_download_is_byte_identical(big_object, proxy_factory):
    b, bucket, digest = big_object
    p = proxy_factory([b])
    for _ in range(2):  # the second on a pooled upstream connection
        conn = _get(p, f"/{bucket}/big", timeout=30)
        resp = conn.getresponse()
        assert resp.status == 200
        assert int(resp.getheader("content-length")) == SIZE
        body = resp.read()
        conn.close()
        assert len(body) == SIZE and hashlib.sha256(body).hexdigest() == digest


def test_backend_stalling_mid_download_is_cut_off_after_idle_timeout(big_object, proxy_factory):
    b, bucket, _ = big_object
    p = proxy_factory([b], routing={"retries": {"idle_timeout": "2s"}})
    conn = _get(p, f"/{bucket}/big", timeout=20)
    resp = conn.getresponse()
    assert resp.status == 200
    assert int(resp.getheader("content-length")) == SIZE  # a short body cannot look complete
    first = len(resp.read(4 * MIB))
    b.pause()  # the backend stops sending, its connection stays open
    t0 = time.monotonic()
    got = _drain(resp, t0 + 15)
    elapsed = time.monotonic() - t0
    conn.close()
    assert first + got < SIZE, "the whole body arrived although the backend stopped"
    assert elapsed < 2 + 8, f"cut off only after {elapsed:.1f}s (idle_timeout 2s)"
    b.resume()
    r = rawclient.send(p, "HEAD", f"/{bucket}/big", timeout=15)
    assert r.status == 200 and p.process.alive


def test_client_not_reading_mid_download_is_cut_off_after_idle_timeout(big_object, proxy_factory):
    b, bucket, _ = big_object
    p = proxy_factory([b], server={"idle_timeout": "2s"})
    conn = _get(p, f"/{bucket}/big", timeout=20)
    resp = conn.getresponse()
    assert resp.status == 200
    assert int(resp.getheader("content-length")) == SIZE
    first = len(resp.read(2 * MIB))
    time.sleep(2 + 4)  # stop reading: s3ha's writes block, its deadline passes
    got = _drain(resp, time.monotonic() + 15)
    conn.close()
    assert first + got < SIZE, "s3ha kept the stalled download open past server.idle_timeout"
    assert "client disconnected during the response" in p.log_path.read_text(errors="replace")
    r = rawclient.send(p, "HEAD", f"/{bucket}/big", timeout=15)
    assert r.status == 200 and p.process.alive


# -- uploads larger than the replay buffer ---------------------------------------------------------
UP_SIZE = 40 * MIB  # > the 8 MiB default replay buffer: not replayable once it has started


def _up_blocks(n: int, base: bytes):
    """n distinct 1 MiB blocks (a dropped, repeated or reordered block changes the hash)."""
    for i in range(n):
        yield i.to_bytes(8, "big") + base[8:]


def _put(p, path: str, blocks, size: int, *, presigned: bool = False,
         payload_hash: str = UNSIGNED_PAYLOAD) -> tuple[int, bytes]:
    """A PUT streamed block by block: header-signed with `payload_hash`, or a presigned URL."""
    port = rawhttp.port_of(p.endpoint)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        if presigned:
            host = rawclient.host_of(p.endpoint)
            q = presign_query("PUT", path, host=host, access_key=p.access_key,
                              secret_key=p.secret_key, region=p.region)
            conn.putrequest("PUT", rawclient.encoded_target(path) + "?" + q, skip_host=True,
                            skip_accept_encoding=True)
            conn.putheader("host", host)
            conn.putheader("content-length", str(size))
        else:
            s = rawclient.sign_for(p, "PUT", path, payload_hash=payload_hash,
                                   headers={"content-length": str(size)})
            conn.putrequest("PUT", rawclient.encoded_target(path), skip_host=True,
                            skip_accept_encoding=True)
            for k, v in s.headers.items():
                conn.putheader(k, v)
        conn.endheaders()
        for blk in blocks:
            conn.send(blk)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _start_partial_put(p, path: str, sent: int, chunked: bool = False) -> socket.socket:
    """A raw client: an UNSIGNED-PAYLOAD PUT header announcing UP_SIZE bytes (or, chunked, an
    HTTP chunked body), then `sent` bytes of body (in 1 MiB chunks when chunked)."""
    framing = {"transfer-encoding": "chunked"} if chunked else {"content-length": str(UP_SIZE)}
    s = rawclient.sign_for(p, "PUT", path, payload_hash=UNSIGNED_PAYLOAD, headers=framing)
    sock = socket.create_connection(("127.0.0.1", rawhttp.port_of(p.endpoint)), timeout=30)
    sock.sendall(rawhttp.request_bytes("PUT", rawclient.encoded_target(path), s.headers))
    base = os.urandom(MIB)
    for blk in _up_blocks(sent // MIB, base):
        sock.sendall(b"%x\r\n%s\r\n" % (len(blk), blk) if chunked else blk)
    return sock


def _healthy(p, bucket: str) -> None:
    """s3ha still serves: a small PUT and its GET through it."""
    r = rawclient.send(p, "PUT", f"/{bucket}/after", body=b"still here", timeout=15)
    assert r.status == 200, (r.status, r.body[:300])
    r = rawclient.send(p, "GET", f"/{bucket}/after", timeout=15)
    assert r.status == 200 and r.body == b"still here"
    assert p.process.alive


def test_large_unsigned_and_signed_uploads_are_byte_identical(backend, backend_bucket,
                                                              proxy_factory):
    p = proxy_factory([backend], logging={"level": "debug"})
    base = os.urandom(MIB)
    n = UP_SIZE // MIB
    digest = hashlib.sha256(b"".join(_up_blocks(n, base))).hexdigest()

    # A body that fits the replay buffer (it stays replayable) ...
    small = b"".join(_up_blocks(4, base))
    status, body = _put(p, f"/{backend_bucket}/small", [small], len(small))
    assert status == 200, body[:500]
    # ... and a sha256-signed one (s3ha verifies the hash before the last byte goes upstream).
    status, body = _put(p, f"/{backend_bucket}/signed", _up_blocks(n, base), UP_SIZE,
                        payload_hash=digest)
    assert status == 200, body[:500]
    assert backend_sha256(backend, backend_bucket, "small") == (hashlib.sha256(small).hexdigest(),
                                                                len(small))
    assert backend_sha256(backend, backend_bucket, "signed") == (digest, UP_SIZE)

    for presigned in (False, True):
        key = f"large-{'presigned' if presigned else 'unsigned'}"
        status, body = _put(p, f"/{backend_bucket}/{key}", _up_blocks(n, base), UP_SIZE,
                            presigned=presigned)
        assert status == 200, body[:500]
        assert backend_sha256(backend, backend_bucket, key) == (digest, UP_SIZE)


@pytest.mark.parametrize("how", ["close", "reset"])
def test_client_disconnecting_mid_large_upload_stores_nothing(backend, backend_bucket,
                                                                proxy_factory, how):
    p = proxy_factory([backend], logging={"level": "debug"})
    key = f"cut-{how}"
    sock = _start_partial_put(p, f"/{backend_bucket}/{key}", 20 * MIB)
    time.sleep(0.5)  # s3ha forwards what arrived
    if how == "reset":
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    p.wait_log("client disconnected during the request body")
    assert_not_committed(backend, backend_bucket, key, UP_SIZE)
    _healthy(p, backend_bucket)


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
def test_client_stalling_mid_large_upload_gets_request_timeout(backend, backend_bucket,
                                                               proxy_factory, framing):
    p = proxy_factory([backend], logging={"level": "debug"}, server={"body_read_timeout": "2s"})
    key = f"stalled-{framing}"
    sock = _start_partial_put(p, f"/{backend_bucket}/{key}", 20 * MIB,
                              chunked=framing == "chunked")
    t0 = time.monotonic()  # then nothing more: the connection stays open
    # As S3 does: 400 RequestTimeout on the same connection, which then closes (the rest of the
    # body will never be read).
    try:
        sock.settimeout(15)
        reader = rawhttp.Reader(sock)
        resp = rawhttp.read_response(reader, "PUT")
        elapsed = time.monotonic() - t0
        assert resp.status == 400 and resp.s3_code == "RequestTimeout", (resp.status,
                                                                        resp.body[:300])
        assert resp.h.get("connection", "").lower() == "close", resp.headers
        with pytest.raises(rawhttp.Closed):
            rawhttp.read_response(reader, "PUT")
    finally:
        sock.close()
    assert 2 - 0.5 < elapsed < 2 + 8, f"answered after {elapsed:.1f}s (body_read_timeout 2s)"
    p.wait_log("client too slow sending the body")
    assert_not_committed(backend, backend_bucket, key, UP_SIZE)
    _healthy(p, backend_bucket)
