"""Signed aws-chunked uploads (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) through s3ha, sent by
our own client (harness/aws_chunked.py) over a raw socket so every byte is under our control.

What must hold: an intact upload is stored byte-identical; a tampered chunk, a wrong trailer
checksum or a truncated body is refused AND nothing is stored on the backend; in `forward` mode
the framing s3ha re-signs carries valid chunk signatures for the BACKEND's key.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest

from harness import aws_chunked as ac
from harness import rawclient, rawhttp, sigv4
from harness.relay import TcpRelay
from harness.s3util import (assert_not_committed, backend_bytes, backend_head, backend_sha256,
                            sha256)

KIB = 1024


# -- our encoder against the published example ---------------------------------------------------
def test_aws_chunked_encoder_reproduces_aws_example():
    """The example of https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html:
    PUT /examplebucket/chunkObject.txt, 66560 bytes of 'a' in 65536 + 1024 byte chunks."""
    when = dt.datetime(2013, 5, 24, 0, 0, 0, tzinfo=dt.timezone.utc)
    s = sigv4.sign_headers(
        "PUT", "/examplebucket/chunkObject.txt", host="s3.amazonaws.com",
        access_key="AKIAIOSFODNN7EXAMPLE", secret_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        region="us-east-1", payload_hash=ac.STREAMING_SIGNED, when=when,
        headers={"x-amz-storage-class": "REDUCED_REDUNDANCY", "content-encoding": "aws-chunked",
                 "x-amz-decoded-content-length": "66560", "content-length": "66824"})
    assert s.amz_date == "20130524T000000Z"
    assert s.headers["authorization"].endswith(
        "SignedHeaders=content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
        "x-amz-decoded-content-length;x-amz-storage-class, "
        "Signature=4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9")
    enc = ac.encode_signed([b"a" * 65536, b"a" * 1024], key=s.key, date=s.amz_date, scope=s.scope,
                           seed=s.signature)
    assert enc.chunk_signatures == [
        "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648",
        "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497",
        "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"]
    assert len(enc.body) == 66824  # the example's Content-Length
    assert enc.body.startswith(b"10000;chunk-signature=ad80c730")
    dec = ac.decode(enc.body)
    assert dec.payload == b"a" * 66560
    assert ac.verify_chain(dec, key=s.key, date=s.amz_date, scope=s.scope, seed=s.signature) == []
    # the decoder notices a changed byte
    bad = bytearray(enc.body)
    bad[enc.data_offsets[1] + 5] ^= 1
    assert ac.verify_chain(ac.decode(bytes(bad)), key=s.key, date=s.amz_date, scope=s.scope,
                           seed=s.signature)


def test_crc32c_check_value():
    assert ac.crc32c(b"123456789") == 0xE3069283  # the CRC-32C check value (RFC 3720 B.4)


# -- through s3ha ---------------------------------------------------------------------------------
def _port(proxy) -> int:
    return rawhttp.port_of(proxy.endpoint)


def _send(proxy, up: rawclient.StreamingUpload, body: bytes | None = None,
          timeout: float = 20.0) -> rawhttp.Message:
    body = up.body if body is None else body
    return rawhttp.roundtrip(_port(proxy), "PUT", up.target, up.headers, body, timeout=timeout)


DATA_SIZES = [200 * KIB + 123]  # 4 chunks of 64 KiB: 3 full + 1 partial, then the final chunk


@pytest.mark.s3ha
def test_signed_streaming_upload_is_stored_byte_identical(proxy, backend, backend_bucket):
    data = os.urandom(DATA_SIZES[0])
    up = rawclient.streaming_put(proxy, f"/{backend_bucket}/chunked.bin", data)
    r = _send(proxy, up)
    assert r.status == 200, (r.status, r.body[:500])
    head = backend_head(backend, backend_bucket, "chunked.bin")
    assert head is not None and head["ContentLength"] == len(data)  # decoded, not the framing
    assert "aws-chunked" not in head.get("ContentEncoding", ""), head
    assert backend_sha256(backend, backend_bucket, "chunked.bin") == (sha256(data), len(data))
    got = proxy.client().get_object(Bucket=backend_bucket, Key="chunked.bin")["Body"].read()
    assert sha256(got) == sha256(data)


@pytest.mark.s3ha
@pytest.mark.parametrize("where", ["first-chunk", "last-data-chunk", "final-chunk-signature"])
def test_tampered_chunk_is_refused_and_nothing_stored(proxy, backend, backend_bucket, where):
    """One changed byte (in a chunk's data, or in the 0-size final chunk's signature) makes the
    whole request 403 SignatureDoesNotMatch, and the backend must not keep any object. Tampering
    the LAST chunks matters most: a proxy that forwards verified bytes before the end of the
    body must still abort the upstream request."""
    data = os.urandom(DATA_SIZES[0])
    key = f"tampered-{where}.bin"
    up = rawclient.streaming_put(proxy, f"/{backend_bucket}/{key}", data)
    body = bytearray(up.body)
    if where == "first-chunk":
        body[up.encoded.data_offsets[0] + 10] ^= 0x01
    elif where == "last-data-chunk":
        body[up.encoded.data_offsets[-1] + 3] ^= 0x01
    else:
        final_sig = up.encoded.chunk_signatures[-1].encode()
        i = bytes(body).rindex(final_sig)
        body[i] = ord("0") if body[i] != ord("0") else ord("1")
    try:
        r = _send(proxy, up, bytes(body))
        assert r.status == 403, (r.status, r.body[:500])
        assert r.s3_code == "SignatureDoesNotMatch", r.body[:500]
    except rawhttp.Closed:
        pass  # a closed connection (no success) is acceptable; the backend check below is not
    assert_not_committed(backend, backend_bucket, key, len(data))


@pytest.mark.s3ha
@pytest.mark.parametrize("cut", ["mid-chunk-half-close", "mid-chunk-close", "before-final-chunk"])
def test_truncated_body_is_refused_and_nothing_stored(proxy, backend, backend_bucket, cut):
    """Fewer bytes than Content-Length, then the client half-closes (or closes): 400
    IncompleteBody or a closed connection, never success, and no object on the backend.
    `before-final-chunk` sends every data chunk but not the final 0-size chunk: all decoded bytes
    arrived, so only the framing tells the body is incomplete."""
    data = os.urandom(DATA_SIZES[0])
    key = f"truncated-{cut}.bin"
    up = rawclient.streaming_put(proxy, f"/{backend_bucket}/{key}", data)
    if cut == "before-final-chunk":
        final = f"0;chunk-signature={up.encoded.chunk_signatures[-1]}\r\n".encode()
        body = up.body[:up.body.rindex(final)]
    else:
        body = up.body[:up.encoded.data_offsets[1] + 1000]
    assert len(body) < len(up.body)
    with rawhttp.Conn(_port(proxy), timeout=15) as c:
        c.send(rawhttp.request_bytes("PUT", up.target, up.headers, body))
        if cut == "mid-chunk-close":
            c.close()
        else:
            c.half_close()
            try:
                r = c.response("PUT")
                assert r.status == 400, (r.status, r.body[:500])
                assert r.s3_code == "IncompleteBody", r.body[:500]
            except rawhttp.Closed:
                pass  # closed without a response: acceptable, not a success
    time.sleep(0.5)
    assert_not_committed(backend, backend_bucket, key, len(data))


@pytest.mark.s3ha
def test_signed_trailer_crc32c_upload_is_stored_byte_identical(proxy, backend, backend_bucket):
    data = os.urandom(150 * KIB + 7)
    up = rawclient.streaming_put(proxy, f"/{backend_bucket}/trailer.bin", data,
                                 trailer_algorithm="crc32c")
    r = _send(proxy, up)
    assert r.status == 200, (r.status, r.body[:500])
    assert backend_sha256(backend, backend_bucket, "trailer.bin") == (sha256(data), len(data))


@pytest.mark.s3ha
def test_signed_trailer_wrong_checksum_is_bad_digest_and_nothing_stored(proxy, backend,
                                                                        backend_bucket):
    """The trailer is correctly SIGNED but the CRC32C it carries does not match the data: the
    data is corrupt by the client's own account. 400 BadDigest; nothing stored."""
    data = os.urandom(150 * KIB + 7)
    wrong = ac.checksum_b64("crc32c", data + b"x")
    up = rawclient.streaming_put(proxy, f"/{backend_bucket}/bad-trailer.bin", data,
                                 trailer_algorithm="crc32c", trailer_value=wrong)
    try:
        r = _send(proxy, up)
        assert r.status == 400, (r.status, r.body[:500])
        assert r.s3_code == "BadDigest", r.body[:500]
    except rawhttp.Closed:
        pytest.fail("connection closed without the 400 BadDigest answer")
    assert_not_committed(backend, backend_bucket, "bad-trailer.bin", len(data))


@pytest.mark.s3ha
@pytest.mark.parametrize("checksum_ok", [True, False], ids=["crc32-ok", "crc32-wrong"])
def test_unsigned_trailer_checksum_is_enforced(proxy, backend, backend_bucket, checksum_ok):
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER (what the JS SDK sends): the trailer checksum is the
    only integrity check of the data, so a wrong one must be 400 BadDigest with nothing stored."""
    data = os.urandom(100 * KIB + 3)
    key = f"unsigned-trailer-{checksum_ok}.bin"
    value = ac.checksum_b64("crc32", data if checksum_ok else data[:-1])
    body = ac.encode_unsigned_trailer(ac.split(data, 32 * KIB), [("x-amz-checksum-crc32", value)])
    s = rawclient.sign_for(proxy, "PUT", f"/{backend_bucket}/{key}",
                           payload_hash=ac.STREAMING_UNSIGNED_TRAILER,
                           headers={"content-encoding": "aws-chunked",
                                    "x-amz-decoded-content-length": str(len(data)),
                                    "x-amz-trailer": "x-amz-checksum-crc32",
                                    "content-length": str(len(body))})
    r = rawhttp.roundtrip(_port(proxy), "PUT", rawclient.encoded_target(f"/{backend_bucket}/{key}"),
                          s.headers, body)
    if checksum_ok:
        assert r.status == 200, (r.status, r.body[:500])
        assert backend_sha256(backend, backend_bucket, key) == (sha256(data), len(data))
    else:
        assert r.status == 400 and r.s3_code == "BadDigest", (r.status, r.body[:500])
        assert_not_committed(backend, backend_bucket, key, len(data))


# -- forward mode: s3ha re-signs the framing for the backend --------------------------------------
@pytest.mark.s3ha
@pytest.mark.parametrize("trailer", [None, "crc32c"], ids=["payload", "payload-trailer"])
def test_forward_mode_re_signs_every_chunk_for_the_backend(s3rver_backend, proxy_factory,
                                                           unique_bucket, trailer):
    """s3rver stores aws-chunked framing verbatim and verifies no signature, so what it stores is
    exactly what s3ha sent. A recording relay between s3ha and s3rver gives the upstream request
    head (its Authorization signature is the seed of the chunk chain). Checked: the upstream
    seed signature is valid for S3RVER/S3RVER, every chunk signature and the trailer signature
    chain from it with the backend's key, date and scope, and the decoded payload is ours."""
    b = s3rver_backend
    b.create_bucket(unique_bucket)
    relay = TcpRelay(b.host, b.port)
    try:
        proxy = proxy_factory([{"backend": b, "endpoint": relay.endpoint, "aws_chunked": "forward",
                               "health_check": {"interval": "30s"}}])
        data = os.urandom(170 * KIB + 11)
        key = f"forward-{trailer or 'plain'}.bin"
        up = rawclient.streaming_put(proxy, f"/{unique_bucket}/{key}", data,
                                     trailer_algorithm=trailer)
        r = _send(proxy, up)
        assert r.status == 200, (r.status, r.body[:500])

        stored = backend_bytes(b, unique_bucket, key)
        dec = ac.decode(stored)  # strict: any malformed or extra byte fails
        assert sha256(dec.payload) == sha256(data)
        if trailer:
            assert dec.trailers == [("x-amz-checksum-crc32c", ac.checksum_b64("crc32c", data))]
            assert dec.trailer_signature is not None

        puts = [m for rec in relay.recorded() for m in rawhttp.parse_requests(rec)
                if m.method == "PUT" and key in m.target]
        assert len(puts) == 1, f"expected one upstream PUT of {key}, saw {len(puts)}"
        upstream = puts[0]
        h = upstream.h
        assert upstream.body == stored, "s3rver did not store what s3ha sent (harness assumption)"
        assert h["x-amz-content-sha256"] == up.headers["x-amz-content-sha256"]
        assert h["x-amz-decoded-content-length"] == str(len(data))
        ok, auth, expected = sigv4.verify_request_signature(
            "PUT", upstream.target, h, b.secret_key)
        assert auth.access_key == b.access_key
        assert ok, f"upstream seed signature {auth.signature} != {expected} for the backend key"
        key_b = sigv4.signing_key(b.secret_key, h["x-amz-date"], auth.region)
        scope = f"{auth.date}/{auth.region}/{auth.service}/aws4_request"
        problems = ac.verify_chain(dec, key=key_b, date=h["x-amz-date"], scope=scope,
                                   seed=auth.signature)
        assert problems == []
        # and none of the client's signatures leaked through unchanged
        assert not set(up.encoded.chunk_signatures) & {s for _, s in dec.chunks}
    finally:
        relay.stop()


@pytest.mark.s3ha
def test_forward_mode_never_re_signs_a_tampered_chunk(s3rver_backend, proxy_factory, unique_bucket):
    """The worst failure of a re-signing proxy: a chunk altered in transit gets a fresh, VALID
    signature for the backend and is stored as genuine. The client's chunk signatures must be
    verified before a chunk goes upstream, so the tampered chunk's bytes never leave s3ha (seen
    through a recording relay), the client gets 403 SignatureDoesNotMatch, and s3rver does not
    hold the whole upload."""
    b = s3rver_backend
    b.create_bucket(unique_bucket)
    relay = TcpRelay(b.host, b.port)
    try:
        proxy = proxy_factory([{"backend": b, "endpoint": relay.endpoint, "aws_chunked": "forward",
                                "health_check": {"interval": "30s"}}])
        data = os.urandom(4 * 64 * KIB + 99)
        key = "forward-tampered.bin"
        up = rawclient.streaming_put(proxy, f"/{unique_bucket}/{key}", data)
        body = bytearray(up.body)
        off = up.encoded.data_offsets[2]  # third chunk
        body[off + 1000] ^= 0x40
        tampered_chunk = bytes(body[off:off + 64 * KIB])
        try:
            r = _send(proxy, up, bytes(body))
            assert r.status == 403 and r.s3_code == "SignatureDoesNotMatch", (r.status, r.body[:300])
        except rawhttp.Closed:
            pass
        time.sleep(0.5)
        upstream = b"".join(relay.recorded())
        assert tampered_chunk not in upstream, "the tampered chunk was forwarded to the backend"
        assert tampered_chunk[900:1100] not in upstream
        head = backend_head(b, unique_bucket, key)
        if head is not None:  # s3rver keeps partial bodies; a partial one must be valid framing
            stored = backend_bytes(b, unique_bucket, key)
            assert len(stored) < len(up.body)
            assert tampered_chunk[900:1100] not in stored
    finally:
        relay.stop()
