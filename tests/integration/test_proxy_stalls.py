"""A large download (>= 1 MiB, plain TCP on both sides: s3ha moves it with splice(2)) where one
side stops moving: a backend that stops sending (SIGSTOP) or a client that stops reading. s3ha
must cut the transfer off after the configured idle deadline (routing.retries.idle_timeout
upstream, server.idle_timeout downstream) instead of waiting forever, never make the short body
look complete, and keep serving other requests. Also a download through the same path that
completes is byte-identical.
"""

from __future__ import annotations

import hashlib
import http.client
import io
import os
import time

import pytest

from harness import rawclient
from harness.backends import S3rverBackend
from harness.s3util import MIB

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
