"""The trust boundary (README "Authentication", issue 17): s3ha re-signs what it forwards with the
backend's key, so the backend may receive only what the client signed, what s3ha sets itself and,
unsigned, the short allow-list of standard headers. Each attack is sent over a raw socket through
the real s3ha; a recording TCP relay between s3ha and the real backend shows what the backend
received (or that nothing reached it), and the backend itself is checked for what it stored.
Every refusal has a positive control (the same request without the attack is forwarded and IS seen
upstream), so "nothing upstream" is proven, not assumed.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import zlib
from urllib.parse import unquote

import pytest
import requests

from conftest import bucket_name
from harness import rawclient, rawhttp
from harness.relayed import RelayedS3ha
from harness.s3util import assert_absent_on_backend, backend_bytes, backend_head
from harness.sigv4 import (UNSIGNED_PAYLOAD, parse_authorization, presign_query,
                           verify_request_signature)

pytestmark = pytest.mark.s3ha


class Env(RelayedS3ha):
    """The relayed s3ha, with raw-request helpers for its bucket."""

    def __init__(self, backend, workdir, bucket: str):
        super().__init__(backend, workdir, bucket)
        self.port = rawhttp.port_of(self.proxy.endpoint)
        self.host = rawclient.host_of(self.proxy.endpoint)

    def sign(self, method: str, key: str, **kw):
        return rawclient.sign_for(self.proxy, method, f"/{self.bucket}/{key}", **kw)

    def target(self, key: str, query=()) -> str:
        return rawclient.encoded_target(f"/{self.bucket}/{key}", query)

    def send(self, method: str, key: str, headers, body: bytes = b"", query=(),
             target: str | None = None) -> rawhttp.Message:
        return rawhttp.roundtrip(self.port, method, target or self.target(key, query), headers,
                                 body)

    def put(self, key: str, data: bytes) -> None:
        self.backend.client().put_object(Bucket=self.bucket, Key=key, Body=data)


@pytest.fixture(scope="module", params=["s3rver", "swift"])
def boundary_env(request, tmp_path_factory):
    backend = request.getfixturevalue(f"{request.param}_backend")
    env = Env(backend, tmp_path_factory.mktemp(f"s3ha-trust-{backend.kind}"),
              bucket_name(f"trust-{backend.kind}"))
    yield env
    env.stop()


@pytest.fixture
def env(request, boundary_env) -> Env:
    request.node._harness_shared_s3ha = [boundary_env.proxy]
    boundary_env.relay.reset()
    return boundary_env


def _key(request) -> str:
    return f"t-{request.node.originalname}-{os.urandom(3).hex()}"


def _headers_not_signed(m: rawhttp.Message) -> str | None:
    import xml.etree.ElementTree as ET
    for child in ET.fromstring(m.body):
        if child.tag.split("}")[-1] == "HeadersNotSigned":
            return child.text
    return None


# -- 1. Connection may not remove signed headers ----------------------------------------------

def test_connection_cannot_strip_signed_copy_source(env, request):
    """A signed CopyObject plus `Connection: x-amz-copy-source, x-amz-server-side-encryption` used
    to reach the backend as an empty-body PUT without the copy source, re-signed."""
    src, dst = _key(request) + "-src", _key(request) + "-dst"
    env.put(src, b"copy me")
    s = env.sign("PUT", dst, headers={"x-amz-copy-source": f"/{env.bucket}/{src}"})
    attack = {**s.headers, "Connection": "x-amz-copy-source, x-amz-server-side-encryption"}
    r = env.send("PUT", dst, attack)
    assert r.status == 400 and r.s3_code == "InvalidRequest", (r.status, r.body[:300])
    assert b"x-amz-copy-source" in r.body
    assert env.upstream(dst) == []
    assert_absent_on_backend(env.backend, env.bucket, dst, settle=0.2)
    # positive control: the same signed copy, with a hop-by-hop Connection, is a copy
    r = env.send("PUT", dst, {**s.headers, "Connection": "keep-alive"})
    assert r.status == 200, (r.status, r.body[:300])
    assert {m.method for m in env.upstream(dst)} == {"PUT"}
    assert backend_bytes(env.backend, env.bucket, dst) == b"copy me"


@pytest.mark.parametrize("stripped", ["content-md5", "x-amz-checksum-crc32"])
def test_connection_cannot_strip_a_signed_checksum_to_swap_the_body(env, request, stripped):
    """A signed Content-MD5 / x-amz-checksum-crc32 named in Connection and the body swapped for
    one of the same length: the tampered body used to be stored and the client got 200."""
    key = _key(request)
    good, evil = b"A" * 4096, b"B" * 4096
    checksum = {"content-md5": base64.b64encode(hashlib.md5(good).digest()).decode(),
                "x-amz-checksum-crc32":
                    base64.b64encode(zlib.crc32(good).to_bytes(4, "big")).decode()}[stripped]
    s = env.sign("PUT", key, body=good, payload_hash=UNSIGNED_PAYLOAD, headers={stripped: checksum})
    r = env.send("PUT", key, {**s.headers, "Connection": f"keep-alive, {stripped}"}, evil)
    assert r.status == 400 and r.s3_code == "InvalidRequest", (r.status, r.body[:300])
    assert stripped.encode() in r.body
    assert env.upstream(key) == []
    assert_absent_on_backend(env.backend, env.bucket, key, settle=0.2)
    # control: without the Connection trick, a backend that checks the header refuses the
    # swapped body (of ours, only Swift checks Content-MD5; MinIO checks both), and the right body
    # is stored
    if stripped == "content-md5" and env.backend.kind == "swift":
        r = env.send("PUT", key, s.headers, evil)
        assert r.status == 400 and r.s3_code in ("BadDigest", "InvalidDigest"), (r.status, r.body)
        assert_absent_on_backend(env.backend, env.bucket, key, settle=0.2)
    r = env.send("PUT", key, s.headers, good)
    assert r.status == 200, (r.status, r.body[:300])
    assert backend_bytes(env.backend, env.bucket, key) == good


# -- 2. unsigned headers ----------------------------------------------------------------------

def test_injected_minio_force_delete_is_refused(env, request):
    key = _key(request)
    env.put(key, b"keep me")
    s = env.sign("DELETE", key)
    r = env.send("DELETE", key, {**s.headers, "x-minio-force-delete": "true"})
    assert r.status == 403 and r.s3_code == "AccessDenied", (r.status, r.body[:300])
    assert _headers_not_signed(r) == "x-minio-force-delete"
    assert env.upstream(key) == []
    assert backend_bytes(env.backend, env.bucket, key) == b"keep me"
    # positive control: the signed DELETE alone deletes
    r = env.send("DELETE", key, s.headers)
    assert r.status == 204, (r.status, r.body[:300])
    assert {m.method for m in env.upstream(key)} == {"DELETE"}
    assert backend_head(env.backend, env.bucket, key) is None


def test_presigned_get_with_injected_minio_header_is_refused(env, request):
    key = _key(request)
    env.put(key, b"zip?")
    path = f"/{env.bucket}/{key}"
    q = presign_query("GET", path, host=env.host, access_key=env.proxy.access_key,
                      secret_key=env.proxy.secret_key, region=env.proxy.region, expires=300)
    url = f"{env.proxy.endpoint}{rawclient.encoded_target(path)}?{q}"
    r = requests.get(url, headers={"x-minio-extract": "true"}, timeout=15)
    assert r.status_code == 403 and rawhttp.s3_error_code(r.content) == "AccessDenied", r.text
    assert "x-minio-extract" in r.text
    assert env.upstream(key) == []
    r = requests.get(url, timeout=15)  # positive control
    assert r.status_code == 200 and r.content == b"zip?"


def test_unsigned_allow_listed_header_goes_upstream_unsigned_and_the_rest_is_dropped(env, request):
    """An injected Content-Type is forwarded but NOT listed in the upstream SignedHeaders (it used
    to be signed by s3ha); headers off the allow-list never reach the backend; every header the
    client signed arrives byte for byte and is signed upstream, and nothing else is signed but
    s3ha's own host, x-amz-date and x-amz-content-sha256. The backend's key verifies the
    upstream signature over exactly that set."""
    key = _key(request)
    body = os.urandom(1000)
    signed = {"x-amz-meta-owner": "alice  and   bob", "x-amz-storage-class": "STANDARD",
              "cache-control": "max-age=60"}
    s = env.sign("PUT", key, body=body, headers=signed)
    injected = {"Content-Type": "text/x-injected", "User-Agent": "evil/1.0",
                "X-Forwarded-For": "10.6.6.6", "X-Custom-Thing": "1", "Referer": "http://x/",
                "amz-sdk-invocation-id": "abc"}
    r = env.send("PUT", key, {**s.headers, **injected}, body)
    assert r.status == 200, (r.status, r.body[:300])
    up = env.upstream(key)[-1]
    h = up.h
    assert h["content-type"] == "text/x-injected" and h["user-agent"] == "evil/1.0"
    for gone in ("x-forwarded-for", "x-custom-thing", "referer", "amz-sdk-invocation-id"):
        assert gone not in h, gone
    for name, value in signed.items():
        assert up.all(name) == [value], name  # byte for byte, once
    auth = parse_authorization(h["authorization"])
    client_signed = parse_authorization(s.headers["authorization"]).signed_headers
    assert set(auth.signed_headers) == (set(client_signed) - {"content-length"}), auth
    assert "content-type" not in auth.signed_headers
    ok, _, _ = verify_request_signature("PUT", up.target, h, env.backend.secret_key)
    assert ok
    assert backend_bytes(env.backend, env.bucket, key) == body


# -- 4, 5. Transfer-Encoding ------------------------------------------------------------------

def _smuggled(env: Env, key: str) -> bytes:
    """A complete second request hidden in a body: must never be parsed as a request."""
    s = env.sign("DELETE", key)
    return rawhttp.request_bytes("DELETE", env.target(key), s.headers)


@pytest.mark.parametrize("te", ["gzip", "chunked, gzip", "gzip, chunked", "xchunked"])
def test_transfer_encoding_other_than_chunked_is_refused_and_the_connection_closed(env, request, te):
    key = _key(request)
    env.put(key, b"still here")
    smuggled = _smuggled(env, key)
    s = env.sign("PUT", key + "-x", payload_hash=UNSIGNED_PAYLOAD)
    headers = {k: v for k, v in s.headers.items() if k != "content-length"}
    with rawhttp.Conn(env.port) as c:
        c.send(rawhttp.request_bytes("PUT", env.target(key + "-x"),
                                     {**headers, "Transfer-Encoding": te}, smuggled))
        r = c.response("PUT")
        assert r.status == 501 and r.s3_code == "NotImplemented", (r.status, r.body[:300])
        assert r.h.get("connection", "").lower() == "close"
        assert c.closed_by_peer(timeout=10), "the connection must close (RFC 9112 6.3)"
    assert env.upstream(key) == []
    assert backend_bytes(env.backend, env.bucket, key) == b"still here"


def test_http10_with_transfer_encoding_is_refused(env, request):
    """Go's net/http ignores Transfer-Encoding on HTTP/1.0: forwarded as such it stored an empty
    object."""
    key = _key(request)
    data = b"x" * 100
    s = env.sign("PUT", key, payload_hash=UNSIGNED_PAYLOAD)
    headers = {k: v for k, v in s.headers.items() if k != "content-length"}
    head = f"PUT {env.target(key)} HTTP/1.0\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in {**headers, "Transfer-Encoding": "chunked"}.items()) + "\r\n"
    with rawhttp.Conn(env.port) as c:
        c.send(head.encode() + b"64\r\n" + data + b"\r\n0\r\n\r\n")
        r = c.response("PUT")
        assert r.status == 400 and r.s3_code == "InvalidRequest", (r.status, r.body[:300])
        assert c.closed_by_peer(timeout=10)
    assert env.upstream(key) == []
    assert_absent_on_backend(env.backend, env.bucket, key, settle=0.2)


def test_http10_request_goes_upstream_as_http11(env, request):
    key = _key(request)
    data = os.urandom(5000)
    s = env.sign("PUT", key, body=data)
    head = f"PUT {env.target(key)} HTTP/1.0\r\n" + "".join(
        f"{k}: {v}\r\n" for k, v in s.headers.items()) + "\r\n"
    with rawhttp.Conn(env.port) as c:
        c.send(head.encode() + data)
        r = c.response("PUT")
    assert r.status == 200, (r.status, r.body[:300])
    up = env.upstream(key)
    assert up and all(m.start_line.endswith(" HTTP/1.1") for m in up)
    assert backend_bytes(env.backend, env.bucket, key) == data


# -- 6. canonicalisation ambiguities ----------------------------------------------------------

def test_signed_header_split_into_two_fields_is_refused(env, request):
    """`x-amz-copy-source: bkt/a` + `x-amz-copy-source: b.txt` canonicalise like the one field
    `bkt/a,b.txt` the client signed, but Go reads the first field only."""
    src, dst = _key(request) + "-a,b.txt", _key(request) + "-dst"
    env.put(src, b"the object the client meant")
    whole = f"/{env.bucket}/{src}"
    cut = whole.index(",")
    s = env.sign("PUT", dst, headers={"x-amz-copy-source": whole})
    fields = [(k, v) for k, v in s.headers.items() if k != "x-amz-copy-source"]
    fields += [("x-amz-copy-source", whole[:cut]), ("x-amz-copy-source", whole[cut + 1:])]
    r = env.send("PUT", dst, fields)
    assert r.status == 400 and r.s3_code == "InvalidRequest", (r.status, r.body[:300])
    assert env.upstream(dst) == []
    assert_absent_on_backend(env.backend, env.bucket, dst, settle=0.2)


@pytest.mark.parametrize("query,code", [
    ("list-type=2&prefix=a&prefix=b", "InvalidRequest"),
    ("list-type=2&prefix=b&prefix=a", "InvalidRequest"),
    ("list-type=2&prefix=a&%70refix=b", "InvalidRequest"),
    ("list-type=2&prefix=a;b", "InvalidURI"),
])
def test_ambiguous_query_is_refused(env, request, query, code):
    # Signed as S3 canonicalises it (';' as %3B, names decoded), sent raw.
    params = [tuple(p.split("=", 1)) for p in query.split("&")]
    s = rawclient.sign_for(env.proxy, "GET", f"/{env.bucket}",
                           query=[(unquote(k), unquote(v)) for k, v in params])
    target = f"/{env.bucket}?{query}"
    r = env.send("GET", "", s.headers, target=target)
    assert r.status == 400 and r.s3_code == code, (r.status, r.body[:300])
    assert env.upstream(f"/{env.bucket}?") == []
    # positive control: one prefix is a listing the backend answers
    s = rawclient.sign_for(env.proxy, "GET", f"/{env.bucket}",
                           query=[("list-type", "2"), ("prefix", "a")])
    r = env.send("GET", "", s.headers, target=f"/{env.bucket}?list-type=2&prefix=a")
    assert r.status == 200, (r.status, r.body[:300])
    # (>= 1: a pooled connection the backend closed while idle is retried on a new one)
    assert len(env.upstream(f"/{env.bucket}?")) >= 1


# -- 7. undefined behaviour before authentication ---------------------------------------------

def test_date_in_year_4048_and_bare_query_parameter(env, request):
    key = _key(request)
    when = dt.datetime(4048, 5, 24, tzinfo=dt.timezone.utc)
    s = env.sign("GET", key, when=when)
    r = env.send("GET", key, s.headers)
    assert r.status == 403 and r.s3_code == "RequestTimeTooSkewed", (r.status, r.body[:300])
    # a parameter without '=' (used to reach memchr(nullptr, ..., 0)), signed: answered
    s = rawclient.sign_for(env.proxy, "GET", f"/{env.bucket}", query=[("location", "")])
    r = env.send("GET", "", s.headers, target=f"/{env.bucket}?location")
    assert r.status == 200, (r.status, r.body[:300])
    assert env.upstream(f"/{env.bucket}?location") != []
    assert env.proxy.process.alive
