"""Multipart uploads stay on the backend that created them (issue 4): s3ha rewrites the UploadId
into an authenticated id naming that backend, routes every later request of the upload by it,
answers 503 (never another backend) when that backend is down, NoSuchUpload to ids it did not
issue, and any s3ha replica with the same backends config serves the same upload.

Real backends only: Swift where the test needs ListMultipartUploads/ListParts/Abort directly on
the backend (s3rver 3.7.1 implements none of them), s3rver where a backend is killed."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import time
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from harness.backends import S3rverBackend
from harness.process import wait_until
from harness.relay import TcpRelay
from harness.s3util import (MIB, assert_absent_on_backend, backend_head, backend_sha256,
                            empty_and_delete, error_code, http_status, sha256)

pytestmark = pytest.mark.s3ha

PART = 5 * MIB


def _b64url_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def _b64url(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def _backend_name_in(upload_id: str) -> str:
    """The backend name inside an s3ha upload id (s3ha1.<name>.<original>.<mac>, base64url)."""
    prefix, name, _original, _mac = upload_id.split(".")
    assert prefix == "s3ha1", upload_id
    return _b64url_decode(name).decode()


def _upload(c, bucket: str, key: str, parts: list[bytes], clients=None) -> str:
    """create/upload_part/complete; part i goes through clients[i % len(clients)] (default: c).
    Returns the UploadId the client saw."""
    clients = clients or [c]
    up = c.create_multipart_upload(Bucket=bucket, Key=key)
    done = []
    for i, data in enumerate(parts, 1):
        r = clients[(i - 1) % len(clients)].upload_part(Bucket=bucket, Key=key, PartNumber=i,
                                                        UploadId=up["UploadId"], Body=data)
        assert r["ETag"].strip('"') == hashlib.md5(data).hexdigest()
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    clients[-1].complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up["UploadId"],
                                          MultipartUpload={"Parts": done})
    return up["UploadId"]


def _direct_upload_ids(backend, bucket: str) -> list[tuple[str, str]]:
    """(Key, UploadId) of the uploads in progress, asked directly on the backend (Swift)."""
    r = backend.client().list_multipart_uploads(Bucket=bucket)
    return [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]


def _wait_direct_upload_ids(backend, bucket: str, expected: list[tuple[str, str]] | None = None,
                            count: int | None = None, timeout: float = 15.0):
    """_direct_upload_ids once it equals `expected` (or has `count` entries): Swift updates its
    container listings asynchronously when its container server is slow (a loaded machine)."""
    seen: list = []

    def probe() -> bool:
        seen[:] = _direct_upload_ids(backend, bucket)
        return seen == expected if expected is not None else len(seen) == count

    wait_until(probe, timeout=timeout, interval=0.2, what=f"uploads on the backend: {seen}")
    return list(seen)


# Lenient health checks for the session Swift: on a loaded machine its S3 check can take more
# than the harness default 500 ms, and a Swift marked down would move new uploads elsewhere.
def _swift(swift) -> dict:
    return {"backend": swift, "health_check": {"interval": "3s", "timeout": "2s", "fall": 3}}


def _expect_error(call, code: str, status: int) -> ClientError:
    with pytest.raises(ClientError) as ei:
        call()
    assert (error_code(ei.value), http_status(ei.value)) == (code, status), ei.value.response
    return ei.value


@pytest.fixture
def swift_and_s3rver(swift_backend, tmp_path, unique_bucket):
    """(bucket, swift, s3rver): the bucket on the session Swift (priority 1 in the configs below)
    and on a fresh s3rver of this test."""
    swift_backend.create_bucket(unique_bucket)
    with S3rverBackend(tmp_path / "s3rver", buckets=[unique_bucket]) as other:
        yield unique_bucket, swift_backend, other
    empty_and_delete(swift_backend, unique_bucket)


def test_upload_completes_on_its_backend_with_rewritten_ids(swift_and_s3rver, s3ha_factory):
    bucket, swift, other = swift_and_s3rver
    proxy = s3ha_factory([_swift(swift), other]).wait_backends_up(2)
    c = proxy.client(read_timeout=120)
    key = "mp/pinned.bin"
    parts = [os.urandom(PART), os.urandom(PART), os.urandom(1234)]

    up = c.create_multipart_upload(Bucket=bucket, Key=key)
    uid = up["UploadId"]
    assert _backend_name_in(uid) == "b0"  # Swift, the failover primary
    # Swift holds the upload under its own id; the client never sees that one.
    direct = _wait_direct_upload_ids(swift, bucket, count=1)
    assert direct[0][0] == key
    swift_id = direct[0][1]
    assert swift_id != uid and swift_id not in uid

    etags = []
    for i, data in enumerate(parts, 1):
        r = c.upload_part(Bucket=bucket, Key=key, PartNumber=i, UploadId=uid, Body=data)
        assert r["ETag"].strip('"') == hashlib.md5(data).hexdigest()
        etags.append({"PartNumber": i, "ETag": r["ETag"]})

    # ListMultipartUploads and ListParts through s3ha show the s3ha id.
    listed = c.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in listed["Uploads"]] == [(key, uid)]
    lp = c.list_parts(Bucket=bucket, Key=key, UploadId=uid)
    assert lp["UploadId"] == uid
    assert [(p["PartNumber"], p["Size"]) for p in lp["Parts"]] == [(1, PART), (2, PART), (3, 1234)]

    c.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=uid,
                                MultipartUpload={"Parts": etags})
    whole = b"".join(parts)
    assert backend_sha256(swift, bucket, key) == (sha256(whole), len(whole))
    assert backend_head(swift, bucket, key)["ETag"].strip('"').endswith("-3")
    assert backend_head(other, bucket, key) is None
    _wait_direct_upload_ids(swift, bucket, [])
    assert c.get_object(Bucket=bucket, Key=key)["Body"].read() == whole


def test_foreign_and_tampered_upload_ids_are_no_such_upload(swift_and_s3rver, s3ha_factory):
    bucket, swift, other = swift_and_s3rver
    proxy = s3ha_factory([_swift(swift), other]).wait_backends_up(2)
    c = proxy.client(max_attempts=1)
    key = "mp/ids.bin"
    uid = c.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    (_, swift_id), = _wait_direct_upload_ids(swift, bucket, count=1)
    prefix, name, original, mac = uid.split(".")
    assert _b64url_decode(original).decode() == swift_id

    bad_mac = bytearray(_b64url_decode(mac))
    bad_mac[0] ^= 1
    refused = [
        "made-up-upload-id",
        swift_id,  # the backend's real id: not issued by s3ha
        ".".join([prefix, name, original, _b64url(bytes(bad_mac))]),  # valid-looking, bad MAC
        ".".join([prefix, _b64url(b"b1"), original, mac]),  # moved to the other backend
        ".".join([prefix, name, _b64url(swift_id.encode() + b"x"), mac]),  # original changed
    ]
    for bad in refused:
        _expect_error(lambda: c.upload_part(Bucket=bucket, Key=key, PartNumber=1, UploadId=bad,
                                            Body=b"x" * 100), "NoSuchUpload", 404)
        _expect_error(lambda: c.list_parts(Bucket=bucket, Key=key, UploadId=bad),
                      "NoSuchUpload", 404)
        _expect_error(lambda: c.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=bad,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"0"'}]}), "NoSuchUpload", 404)
        _expect_error(lambda: c.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=bad),
                      "NoSuchUpload", 404)
    _expect_error(lambda: c.list_multipart_uploads(Bucket=bucket, KeyMarker=key,
                                                   UploadIdMarker="made-up"),
                  "InvalidArgument", 400)
    # None of them reached the backend: the upload is still there, without parts.
    assert _direct_upload_ids(swift, bucket) == [(key, swift_id)]
    assert swift.client().list_parts(Bucket=bucket, Key=key, UploadId=swift_id).get("Parts",
                                                                                    []) == []

    # AbortMultipartUpload with the s3ha id works and removes it from the backend.
    c.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=uid)
    _wait_direct_upload_ids(swift, bucket, [])
    assert c.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_backend_receives_only_its_own_ids(swift_backend, s3ha_factory, unique_bucket):
    """Through a recording relay in front of Swift: every request naming the upload (and a
    ListMultipartUploads upload-id-marker) reaches the backend with the backend's own id, signed
    (Swift verifies SigV4), never with the s3ha id.

    Swift's s3api leaves NextUploadIdMarker empty even on truncated pages, so the marker is taken
    from a listed upload (a real client continues the same way from NextUploadIdMarker)."""
    bucket, key = unique_bucket, "mp/relayed.bin"
    swift_backend.create_bucket(bucket)
    relay = TcpRelay(swift_backend.host, swift_backend.port)
    try:
        proxy = s3ha_factory([{**_swift(swift_backend), "endpoint": relay.endpoint}])
        c = proxy.client(max_attempts=1)
        uid = c.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        (_, swift_id), = _wait_direct_upload_ids(swift_backend, bucket, count=1)
        c.upload_part(Bucket=bucket, Key=key, PartNumber=1, UploadId=uid, Body=b"p" * 1000)
        assert [p["PartNumber"] for p in
                c.list_parts(Bucket=bucket, Key=key, UploadId=uid)["Parts"]] == [1]
        page = c.list_multipart_uploads(Bucket=bucket, KeyMarker="mp/",
                                        UploadIdMarker=uid)  # continues after a listed upload
        assert page["UploadIdMarker"] == uid  # the marker echoed back is the s3ha id again
        c.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=uid)
        sent = b"".join(relay.recorded()).decode("latin-1")
        lines = [ln for ln in sent.split("\r\n") if f"/{bucket}" in ln and " HTTP/1.1" in ln]
        enc = quote(swift_id, safe="")
        assert sum(f"uploadId={enc}" in ln for ln in lines) == 3, lines  # part, list, abort
        assert any(f"upload-id-marker={enc}" in ln for ln in lines), lines
        assert uid not in sent and quote(uid, safe="") not in sent
        _wait_direct_upload_ids(swift_backend, bucket, [])
    finally:
        relay.stop()
        empty_and_delete(swift_backend, bucket)


def test_upload_pinned_to_dead_backend_gets_503_never_another(swift_backend, s3ha_factory,
                                                                 tmp_path, unique_bucket):
    swift_backend.create_bucket(unique_bucket)
    bucket, key = unique_bucket, "mp/orphan.bin"
    try:
        with S3rverBackend(tmp_path / "primary", buckets=[bucket]) as primary, \
                TcpRelay(swift_backend.host, swift_backend.port) as relay:
            # Everything s3ha sends to the secondary passes through the recording relay.
            proxy = s3ha_factory([primary, {**_swift(swift_backend), "endpoint": relay.endpoint}])
            c = proxy.client(max_attempts=1, read_timeout=60)
            uid = c.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
            assert _backend_name_in(uid) == "b0"
            p1 = c.upload_part(Bucket=bucket, Key=key, PartNumber=1, UploadId=uid,
                               Body=os.urandom(PART))

            primary.kill9()
            t_kill = time.monotonic()
            part2 = os.urandom(PART)

            def part_2():
                return c.upload_part(Bucket=bucket, Key=key, PartNumber=2, UploadId=uid,
                                     Body=part2)

            # Right after the kill (the pool may not know yet) and once it is surely marked
            # down (fall 2 x interval 1 s): 503 ServiceUnavailable with Retry-After, each time.
            for _ in range(2):
                e = _expect_error(part_2, "ServiceUnavailable", 503)
                assert e.response["ResponseMetadata"]["HTTPHeaders"].get("retry-after")
                time.sleep(max(0.0, t_kill + 3.5 - time.monotonic()))
            _expect_error(lambda: c.list_parts(Bucket=bucket, Key=key, UploadId=uid),
                          "ServiceUnavailable", 503)
            _expect_error(lambda: c.complete_multipart_upload(
                Bucket=bucket, Key=key, UploadId=uid,
                MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": p1["ETag"]}]}),
                "ServiceUnavailable", 503)
            _expect_error(lambda: c.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=uid),
                          "ServiceUnavailable", 503)

            # The secondary never saw any of it.
            assert key.encode() not in b"".join(relay.recorded())
            assert _direct_upload_ids(swift_backend, bucket) == []
            assert_absent_on_backend(swift_backend, bucket, key, settle=0.5)

            # An upload started after the failover goes to the secondary and completes there.
            c2 = proxy.client(read_timeout=120)
            parts = [os.urandom(PART), os.urandom(PART), os.urandom(777)]
            uid2 = _upload(c2, bucket, "mp/after.bin", parts)
            assert _backend_name_in(uid2) == "b1"
            whole = b"".join(parts)
            assert backend_sha256(swift_backend, bucket, "mp/after.bin") == (sha256(whole),
                                                                              len(whole))
            _wait_direct_upload_ids(swift_backend, bucket, [])
            # And the old upload still gets 503, not a part on the new primary.
            _expect_error(part_2, "ServiceUnavailable", 503)
            assert key.encode() not in b"".join(relay.recorded())
            assert b"mp/after.bin" in b"".join(relay.recorded())  # the relay does record
            assert _direct_upload_ids(swift_backend, bucket) == []
    finally:
        empty_and_delete(swift_backend, bucket)


def test_two_s3ha_instances_serve_one_upload(s3ha_factory, tmp_path, unique_bucket):
    bucket, key = unique_bucket, "mp/shared.bin"
    with contextlib.ExitStack() as stack:
        a = stack.enter_context(S3rverBackend(tmp_path / "a", buckets=[bucket]))
        b = stack.enter_context(S3rverBackend(tmp_path / "b", buckets=[bucket]))
        secret = "shared-client-secret-0123456789"
        pa = s3ha_factory([a, b], secret_key=secret).wait_backends_up(2)
        pb = s3ha_factory([a, b], secret_key=secret).wait_backends_up(2)
        assert pa.endpoint != pb.endpoint
        ca, cb = pa.client(read_timeout=120), pb.client(read_timeout=120)
        parts = [os.urandom(PART), os.urandom(PART), os.urandom(PART), os.urandom(4321)]
        # Created on A, parts alternately through A and B, completed through B.
        uid = _upload(ca, bucket, key, parts, clients=[ca, cb])
        assert _backend_name_in(uid) == "b0"
        whole = b"".join(parts)
        assert backend_sha256(a, bucket, key) == (sha256(whole), len(whole))
        assert backend_head(b, bucket, key) is None
        assert cb.get_object(Bucket=bucket, Key=key)["Body"].read() == whole
