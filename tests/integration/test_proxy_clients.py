"""Other real S3 clients through s3ha: rclone, s3cmd, the npm `minio` client and
`@aws-sdk/client-s3` with a stream body (aws-chunked, STREAMING-UNSIGNED-PAYLOAD-TRAILER with a
CRC32 trailer over HTTP chunked). Every object is checked byte for byte ON THE BACKEND.
"""

from __future__ import annotations

import json

import pytest

from harness import clients, rawhttp
from harness.relay import TcpRelay
from harness.s3util import (MIB, backend_head, backend_sha256, empty_and_delete, settled_keys,
                            file_sha256, random_file)

pytestmark = pytest.mark.s3ha


def test_rclone_roundtrip(proxy, backend, backend_bucket, tmp_path):
    src = tmp_path / "src"
    (src / "sub dir").mkdir(parents=True)
    digests = {"a.bin": random_file(src / "a.bin", 7 * MIB + 1),
               "sub dir/b.bin": random_file(src / "sub dir" / "b.bin", 1000),
               "empty.bin": random_file(src / "empty.bin", 0)}

    def rc(*args):
        return clients.rclone(proxy.endpoint, proxy.access_key, proxy.secret_key, *args,
                              region=proxy.region, timeout=180)

    r = rc("copy", str(src), f"s3:{backend_bucket}/rc")
    assert r.returncode == 0, r.stderr
    expected = [f"rc/{k}" for k in digests]
    assert sorted(settled_keys(backend, backend_bucket, expected)) == sorted(expected)
    for k, d in digests.items():
        assert backend_sha256(backend, backend_bucket, f"rc/{k}")[0] == d, k
    r = rc("lsjson", "-R", f"s3:{backend_bucket}/rc")
    assert r.returncode == 0, r.stderr
    assert sorted(e["Path"] for e in json.loads(r.stdout) if not e["IsDir"]) == sorted(digests)
    dst = tmp_path / "dst"
    r = rc("copy", f"s3:{backend_bucket}/rc", str(dst))
    assert r.returncode == 0, r.stderr
    for k, d in digests.items():
        assert file_sha256(dst / k) == d, k
    r = rc("check", str(src), f"s3:{backend_bucket}/rc")
    assert r.returncode == 0, r.stderr
    r = rc("delete", f"s3:{backend_bucket}/rc")
    assert r.returncode == 0, r.stderr
    assert settled_keys(backend, backend_bucket, []) == []


def test_s3cmd_roundtrip(proxy, backend, unique_bucket, tmp_path):
    def s3cmd(*args):
        return clients.s3cmd(proxy.endpoint, proxy.access_key, proxy.secret_key, *args,
                             region=proxy.region, timeout=180)

    src = tmp_path / "s3cmd.bin"
    digest = random_file(src, 17 * MIB + 9)  # multipart with s3cmd's 15 MiB chunks
    try:
        r = s3cmd("mb", f"s3://{unique_bucket}")
        assert r.returncode == 0, r.stderr
        r = s3cmd("put", "--mime-type=application/x-s3cmd", str(src), f"s3://{unique_bucket}/x/s3cmd.bin")
        assert r.returncode == 0, r.stderr
        assert backend_sha256(backend, unique_bucket, "x/s3cmd.bin") == (digest, 17 * MIB + 9)
        assert backend_head(backend, unique_bucket, "x/s3cmd.bin")["ContentType"] == "application/x-s3cmd"
        r = s3cmd("ls", f"s3://{unique_bucket}/x/")
        assert r.returncode == 0 and f"s3://{unique_bucket}/x/s3cmd.bin" in r.stdout, r
        dst = tmp_path / "back.bin"
        r = s3cmd("get", f"s3://{unique_bucket}/x/s3cmd.bin", str(dst))
        assert r.returncode == 0, r.stderr
        assert file_sha256(dst) == digest
        r = s3cmd("del", f"s3://{unique_bucket}/x/s3cmd.bin")
        assert r.returncode == 0, r.stderr
        assert backend_head(backend, unique_bucket, "x/s3cmd.bin") is None
        r = s3cmd("rb", f"s3://{unique_bucket}")
        assert r.returncode == 0, r.stderr
    finally:
        empty_and_delete(backend, unique_bucket)


def _node(endpoint, proxy, *args):
    env = clients.s3_env(endpoint, proxy.access_key, proxy.secret_key, proxy.region)
    r = clients.node_script("roundtrip.mjs", env, *args, timeout=120)
    assert r.returncode == 0, (r.stdout, r.stderr)
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("mode", ["buffer", "stream"])
def test_minio_js_roundtrip(proxy, backend, backend_bucket, mode):
    size = 5 * MIB + 77
    out = _node(proxy.endpoint, proxy, "minio", backend_bucket, f"minio-{mode}.bin", str(size), mode)
    assert out["get_sha256"] == out["put_sha256"] and out["get_size"] == size
    assert backend_sha256(backend, backend_bucket, f"minio-{mode}.bin") == (out["put_sha256"], size)


def test_aws_sdk_js_stream_body_unsigned_trailer(proxy, backend, backend_bucket):
    """@aws-sdk/client-s3 PutObject with a stream body. A recording relay between the SDK and
    s3ha proves the request really was aws-chunked with STREAMING-UNSIGNED-PAYLOAD-TRAILER, an
    x-amz-checksum-crc32 trailer and HTTP chunked transfer; the backend must hold the decoded
    bytes exactly (neither the framing nor the trailer)."""
    size = 3 * MIB + 17
    relay = TcpRelay("127.0.0.1", rawhttp.port_of(proxy.endpoint))
    try:
        out = _node(relay.endpoint, proxy, "aws-sdk", backend_bucket, "sdk-stream.bin", str(size),
                    "stream")
        reqs = [m for rec in relay.recorded() for m in rawhttp.parse_requests(rec)]
    finally:
        relay.stop()
    puts = [m for m in reqs if m.method == "PUT"]
    assert len(puts) == 1, [m.start_line for m in reqs]
    h = puts[0].h
    assert h["x-amz-content-sha256"] == "STREAMING-UNSIGNED-PAYLOAD-TRAILER", h
    assert h["x-amz-trailer"] == "x-amz-checksum-crc32", h
    assert "chunked" in h.get("transfer-encoding", ""), h
    assert "aws-chunked" in h.get("content-encoding", ""), h
    assert h["x-amz-decoded-content-length"] == str(size)
    assert b"x-amz-checksum-crc32:" in puts[0].body  # the trailer went over the wire

    assert out["get_sha256"] == out["put_sha256"] and out["get_size"] == size
    assert backend_sha256(backend, backend_bucket, "sdk-stream.bin") == (out["put_sha256"], size)
    head = backend_head(backend, backend_bucket, "sdk-stream.bin")
    assert "aws-chunked" not in head.get("ContentEncoding", ""), head  # decode mode stores plain


def test_aws_sdk_js_buffer_body(proxy, backend, backend_bucket):
    size = 2 * MIB + 3
    out = _node(proxy.endpoint, proxy, "aws-sdk", backend_bucket, "sdk-buffer.bin", str(size), "buffer")
    assert out["get_sha256"] == out["put_sha256"]
    assert backend_sha256(backend, backend_bucket, "sdk-buffer.bin") == (out["put_sha256"], size)
