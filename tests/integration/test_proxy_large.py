"""A 1 GiB object through s3ha (s3rver backend): streamed up and down, identical SHA-256, the
backend's ETag is the MD5 of our bytes, and s3ha's peak RSS (VmHWM) stays under 64 MiB, so the
body is relayed through fixed buffers, never held whole. Our side never holds it either: the data
is generated block by block (each block differs: its index is written into it, so a dropped,
repeated or reordered block changes the hash).
"""

from __future__ import annotations

import hashlib
import http.client
import os
import time

import pytest

from harness import rawclient
from harness.s3util import MIB, backend_head

pytestmark = [pytest.mark.s3ha, pytest.mark.slow]

GIB = 1024 * MIB
BLOCK = MIB
RSS_LIMIT_KIB = 64 * 1024


def _blocks(base: bytes, n: int):
    for i in range(n):
        yield i.to_bytes(8, "big") + base[8:]


def test_1gib_upload_and_download_stream_with_bounded_memory(s3rver_backend, proxy_factory,
                                                             unique_bucket):
    b = s3rver_backend
    b.create_bucket(unique_bucket)
    p = proxy_factory([b], logging={"access_log": False})
    base = os.urandom(BLOCK)
    n = GIB // BLOCK
    sha, md5 = hashlib.sha256(), hashlib.md5()
    for blk in _blocks(base, n):
        sha.update(blk)
        md5.update(blk)
    digest = sha.hexdigest()
    path = f"/{unique_bucket}/big/1gib.bin"
    host = rawclient.host_of(p.endpoint)
    port = int(host.rsplit(":", 1)[1])
    rss_before = p.rss_peak_kib()

    t0 = time.monotonic()
    s = rawclient.sign_for(p, "PUT", path, payload_hash=digest,
                           headers={"content-length": str(GIB), "content-type": "application/x-big"})
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.putrequest("PUT", rawclient.encoded_target(path), skip_host=True,
                        skip_accept_encoding=True)
        for k, v in s.headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        for blk in _blocks(base, n):
            conn.send(blk)
        resp = conn.getresponse()
        body = resp.read()
        assert resp.status == 200, (resp.status, body[:500])
    finally:
        conn.close()
    up_s = time.monotonic() - t0

    head = backend_head(b, unique_bucket, "big/1gib.bin")
    assert head is not None and head["ContentLength"] == GIB
    assert head["ETag"].strip('"') == md5.hexdigest()  # the backend holds exactly our bytes

    t0 = time.monotonic()
    s = rawclient.sign_for(p, "GET", path)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    got, size = hashlib.sha256(), 0
    try:
        conn.putrequest("GET", rawclient.encoded_target(path), skip_host=True,
                        skip_accept_encoding=True)
        for k, v in s.headers.items():
            conn.putheader(k, v)
        conn.endheaders()
        resp = conn.getresponse()
        assert resp.status == 200, (resp.status, resp.read(500))
        assert int(resp.getheader("content-length")) == GIB
        while True:
            blk = resp.read(BLOCK)
            if not blk:
                break
            got.update(blk)
            size += len(blk)
    finally:
        conn.close()
    down_s = time.monotonic() - t0
    assert size == GIB
    assert got.hexdigest() == digest

    peak = p.rss_peak_kib()
    print(f"1 GiB: up {up_s:.1f}s, down {down_s:.1f}s; s3ha VmHWM {rss_before} -> {peak} KiB")
    assert peak is not None and peak < RSS_LIMIT_KIB, \
        f"s3ha peak RSS {peak} KiB >= {RSS_LIMIT_KIB} KiB: bodies are not streamed"
    b.client().delete_object(Bucket=unique_bucket, Key="big/1gib.bin")
    b.client().delete_bucket(Bucket=unique_bucket)
