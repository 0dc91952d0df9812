"""Small checks the proxy tests share: what the BACKEND holds (read with the backend's own
credentials, never through s3ha), S3 error codes of boto3 errors, clean-up, test data."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from botocore.exceptions import ClientError

MIB = 1024 * 1024


def sha256(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def error_code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def http_status(exc: ClientError) -> int:
    return exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)


def backend_head(backend, bucket: str, key: str) -> dict | None:
    """HEAD on the backend directly: the response, or None when the object does not exist."""
    try:
        return backend.client().head_object(Bucket=bucket, Key=key)
    except ClientError as e:
        if http_status(e) == 404:
            return None
        raise


def backend_sha256(backend, bucket: str, key: str) -> tuple[str, int]:
    """(SHA-256, size) of the object's bytes as stored on the backend, streamed."""
    body = backend.client(read_timeout=120).get_object(Bucket=bucket, Key=key)["Body"]
    h, n = hashlib.sha256(), 0
    for block in iter(lambda: body.read(MIB), b""):
        h.update(block)
        n += len(block)
    return h.hexdigest(), n


def backend_bytes(backend, bucket: str, key: str) -> bytes:
    return backend.client().get_object(Bucket=bucket, Key=key)["Body"].read()


def backend_keys(backend, bucket: str) -> list[str]:
    c = backend.client()
    keys: list[str] = []
    for page in c.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        keys += [o["Key"] for o in page.get("Contents", [])]
    return keys


def settled_keys(backend, bucket: str, expected: list[str], timeout: float = 5.0) -> list[str]:
    """The backend's listing of `bucket`, read again (up to `timeout` seconds) until it equals
    `expected` (in any order). Swift applies a write to its container listing after the write's
    answer when its container server is slow (an "async pending" update), so a listing read right
    after a write can lag; the caller asserts on what this returns."""
    deadline = time.monotonic() + timeout
    while True:
        keys = backend_keys(backend, bucket)
        if sorted(keys) == sorted(expected) or time.monotonic() >= deadline:
            return keys
        time.sleep(0.1)


def assert_absent_on_backend(backend, bucket: str, key: str, settle: float = 1.0) -> None:
    """The object does not exist on the backend, checked again after `settle` seconds (an upload
    s3ha failed to abort would complete in the meantime)."""
    assert backend_head(backend, bucket, key) is None, f"{key!r} exists on the backend"
    time.sleep(settle)
    assert backend_head(backend, bucket, key) is None, f"{key!r} appeared on the backend"


def assert_not_committed(backend, bucket: str, key: str, full_size: int, settle: float = 1.0) -> None:
    """A refused upload was not committed on the backend.

    Swift discards an upload whose body did not complete: there the object must be absent.
    s3rver 3.7.1 stores whatever body bytes arrived before the connection closed (checked directly
    against it: 50000 of 100000 bytes sent, then close/RST/half-close -> a 50000-byte object), so
    on s3rver a SHORTER object only shows that s3ha aborted the upstream request (s3rver's
    artifact); an object of `full_size` bytes means s3ha completed the upstream request.
    """
    if backend.kind != "s3rver":
        assert_absent_on_backend(backend, bucket, key, settle)
        return
    time.sleep(settle)
    head = backend_head(backend, bucket, key)
    if head is not None:
        assert head["ContentLength"] < full_size, (
            f"{key!r}: s3ha completed the upstream upload ({head['ContentLength']} bytes stored) "
            "although it refused the request")


def empty_and_delete(backend, bucket: str) -> None:
    """Best-effort clean-up directly on the backend."""
    c = backend.client()
    try:
        for up in c.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
            c.abort_multipart_upload(Bucket=bucket, Key=up["Key"], UploadId=up["UploadId"])
    except ClientError:
        pass
    try:
        for key in backend_keys(backend, bucket):
            c.delete_object(Bucket=bucket, Key=key)
        c.delete_bucket(Bucket=bucket)
    except ClientError:
        pass


def random_file(path: Path, size: int) -> str:
    """Write `size` random bytes to `path`; returns their SHA-256."""
    h = hashlib.sha256()
    with open(path, "wb") as f:
        left = size
        while left:
            block = os.urandom(min(left, 4 * MIB))
            f.write(block)
            h.update(block)
            left -= len(block)
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(4 * MIB), b""):
            h.update(block)
    return h.hexdigest()
