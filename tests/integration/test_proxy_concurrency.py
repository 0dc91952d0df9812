"""Many uploads and downloads through one s3ha at once: each object must hold exactly its own
bytes on the backend and come back intact (per-session buffers reused across requests and
connections must never mix bodies)."""

from __future__ import annotations

import hashlib
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from harness.s3util import MIB, sha256

pytestmark = pytest.mark.s3ha

SIZES = [0, 1, 4095, 65536, 65537, 300_000, MIB - 1, 3 * MIB + 5] * 3  # 24 objects


def test_concurrent_puts_and_gets_do_not_mix_bodies(proxy, backend, backend_bucket):
    blobs = {f"conc/{i:02d}-{n}": os.urandom(n) for i, n in enumerate(SIZES)}
    local = threading.local()

    def client():  # one boto3 client (and connection pool) per thread
        if not hasattr(local, "c"):
            local.c = proxy.client(read_timeout=60)
        return local.c

    def put(item):
        key, data = item
        r = client().put_object(Bucket=backend_bucket, Key=key, Body=data)
        return key, r["ETag"].strip('"')

    with ThreadPoolExecutor(max_workers=8) as ex:
        etags = dict(ex.map(put, blobs.items()))
    direct = backend.client()
    for key, data in blobs.items():
        assert etags[key] == hashlib.md5(data).hexdigest(), key
        stored = direct.get_object(Bucket=backend_bucket, Key=key)["Body"].read()
        assert (sha256(stored), len(stored)) == (sha256(data), len(data)), key

    def get(key):
        return key, client().get_object(Bucket=backend_bucket, Key=key)["Body"].read()

    with ThreadPoolExecutor(max_workers=8) as ex:
        for key, got in ex.map(get, list(blobs) * 2):
            assert sha256(got) == sha256(blobs[key]), key
