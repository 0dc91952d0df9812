"""Negative authentication through s3ha: every refused request gets the right 403/400 S3 error
AND nothing reaches the backend. A recording TCP relay sits between s3ha and the backend; each
test asserts that no upstream request named its bucket (health checks pass through the relay
too, so requests are filtered by bucket), and every refusal has a positive control (the same
request signed correctly succeeds and IS seen upstream), so the relay observation is proven.
"""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import bucket_name
from harness import clients, rawclient, rawhttp
from harness.relayed import RelayedS3ha
from harness.s3util import (assert_absent_on_backend, assert_not_committed, backend_bytes,
                            backend_head, empty_and_delete, error_code, http_status, sha256)
from harness.sigv4 import presign_query

pytestmark = pytest.mark.s3ha


@pytest.fixture(scope="module", params=["s3rver", "swift"])
def relayed_env(request, tmp_path_factory):
    backend = request.getfixturevalue(f"{request.param}_backend")
    env = RelayedS3ha(backend, tmp_path_factory.mktemp(f"s3ha-auth-{backend.kind}"),
                      bucket_name(f"auth-{backend.kind}"))
    yield env
    env.stop()


@pytest.fixture
def env(request, relayed_env) -> RelayedS3ha:
    request.node._harness_shared_s3ha = [relayed_env.proxy]
    return relayed_env


def _key(request) -> str:
    return f"k-{request.node.originalname}-{os.urandom(3).hex()}"


def test_wrong_secret_is_refused_and_nothing_forwarded(env, request):
    p, b = env.proxy, env.backend
    key = _key(request)
    bad = clients.boto3_client(p.endpoint, p.access_key, p.secret_key + "x", p.region, max_attempts=1)
    with pytest.raises(ClientError) as e:
        bad.put_object(Bucket=env.bucket, Key=key, Body=b"must not be stored")
    assert http_status(e.value) == 403 and error_code(e.value) == "SignatureDoesNotMatch"
    assert env.upstream(key) == []
    assert_absent_on_backend(b, env.bucket, key, settle=0.3)
    # positive control: the correct secret stores it and the relay sees the PUT
    p.client().put_object(Bucket=env.bucket, Key=key, Body=b"stored")
    assert [m.method for m in env.upstream(key)] == ["PUT"]
    assert backend_bytes(b, env.bucket, key) == b"stored"
    env.relay.reset()
    with pytest.raises(ClientError) as e:
        bad.get_object(Bucket=env.bucket, Key=key)
    assert http_status(e.value) == 403 and error_code(e.value) == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as e:
        bad.delete_object(Bucket=env.bucket, Key=key)
    assert http_status(e.value) == 403 and error_code(e.value) == "SignatureDoesNotMatch"
    assert env.upstream(key) == []
    assert backend_bytes(b, env.bucket, key) == b"stored"


def test_backend_credentials_are_not_client_credentials(env, request):
    """The backend's own key is unknown to s3ha's client side: InvalidAccessKeyId."""
    p, b = env.proxy, env.backend
    key = _key(request)
    c = clients.boto3_client(p.endpoint, b.access_key, b.secret_key, p.region, max_attempts=1)
    with pytest.raises(ClientError) as e:
        c.put_object(Bucket=env.bucket, Key=key, Body=b"x")
    assert http_status(e.value) == 403 and error_code(e.value) == "InvalidAccessKeyId"
    assert env.upstream(key) == []
    assert_absent_on_backend(b, env.bucket, key, settle=0.3)


def test_unknown_access_key(env, request):
    key = _key(request)
    r = rawclient.send(env.proxy, "PUT", f"/{env.bucket}/{key}", body=b"x",
                       access_key="AKIDOESNOTEXIST0000", secret_key="whatever")
    assert r.status == 403 and r.s3_code == "InvalidAccessKeyId", (r.status, r.body[:300])
    assert env.upstream(key) == []
    assert_absent_on_backend(env.backend, env.bucket, key, settle=0.3)


def test_tampered_signed_header_is_refused(env, request):
    """x-amz-meta-owner is signed as 'alice' but sent as 'mallory'."""
    key = _key(request)
    s = rawclient.sign_for(env.proxy, "PUT", f"/{env.bucket}/{key}", body=b"data",
                           headers={"x-amz-meta-owner": "alice"})
    headers = {**s.headers, "x-amz-meta-owner": "mallory"}
    r = rawhttp.roundtrip(rawhttp.port_of(env.proxy.endpoint), "PUT",
                          rawclient.encoded_target(f"/{env.bucket}/{key}"), headers, b"data")
    assert r.status == 403 and r.s3_code == "SignatureDoesNotMatch", (r.status, r.body[:300])
    assert env.upstream(key) == []
    assert_absent_on_backend(env.backend, env.bucket, key, settle=0.3)


def test_body_not_matching_signed_sha256_is_not_stored(env, request):
    """The signature covers x-amz-content-sha256 = SHA-256(A) but body B (same length) is sent:
    a corrupted or substituted body. 400 (XAmzContentSHA256Mismatch, or the backend's BadDigest)
    and, above all, no object on the backend. s3rver verifies no hash, so there only s3ha's own
    check can prevent the store."""
    key = _key(request)
    a, bbody = os.urandom(300_000), os.urandom(300_000)
    s = rawclient.sign_for(env.proxy, "PUT", f"/{env.bucket}/{key}", body=a)
    try:
        r = rawhttp.roundtrip(rawhttp.port_of(env.proxy.endpoint), "PUT",
                              rawclient.encoded_target(f"/{env.bucket}/{key}"), s.headers, bbody)
        assert r.status == 400, (r.status, r.body[:300])
        assert r.s3_code in ("XAmzContentSHA256Mismatch", "BadDigest"), r.body[:300]
    except rawhttp.Closed:
        pass  # closed without success is acceptable; storage is what matters
    assert_not_committed(env.backend, env.bucket, key, len(bbody))
    if env.backend.kind == "s3rver":
        assert backend_head(env.backend, env.bucket, key) is None or \
            sha256(backend_bytes(env.backend, env.bucket, key)) != sha256(bbody)


def test_expired_presigned_url(env, request):
    p = env.proxy
    key = _key(request)
    p.client().put_object(Bucket=env.bucket, Key=key, Body=b"presigned")
    host = rawclient.host_of(p.endpoint)
    path = f"/{env.bucket}/{key}"
    # positive control: our presigner, fresh
    fresh = presign_query("GET", path, host=host, access_key=p.access_key, secret_key=p.secret_key,
                          region=p.region, expires=120)
    r = requests.get(f"{p.endpoint}{rawclient.encoded_target(path)}?{fresh}", timeout=15)
    assert r.status_code == 200 and r.content == b"presigned"
    env.relay.reset()
    old = presign_query("GET", path, host=host, access_key=p.access_key, secret_key=p.secret_key,
                        region=p.region, expires=60,
                        when=dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10))
    r = requests.get(f"{p.endpoint}{rawclient.encoded_target(path)}?{old}", timeout=15)
    assert r.status_code == 403, r.text
    assert rawhttp.s3_error_code(r.content) == "AccessDenied", r.text
    # boto3's own presigned URL, expired for real
    url = p.client().generate_presigned_url("get_object", ExpiresIn=1,
                                            Params={"Bucket": env.bucket, "Key": key})
    time.sleep(2.1)
    r = requests.get(url, timeout=15)
    assert r.status_code == 403 and rawhttp.s3_error_code(r.content) == "AccessDenied", r.text
    assert env.upstream(key) == []


@pytest.mark.parametrize("minutes", [-20, 20, -60 * 24])
def test_clock_skew_over_15_minutes(env, request, minutes):
    key = _key(request)
    when = dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=minutes)
    r = rawclient.send(env.proxy, "PUT", f"/{env.bucket}/{key}", body=b"skewed", when=when)
    assert r.status == 403 and r.s3_code == "RequestTimeTooSkewed", (r.status, r.body[:300])
    assert env.upstream(key) == []
    assert_absent_on_backend(env.backend, env.bucket, key, settle=0.2)


def test_clock_skew_within_15_minutes_is_accepted(env, request):
    """Control for the skew test: our signer with a 10-minute-old clock is accepted."""
    key = _key(request)
    when = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)
    r = rawclient.send(env.proxy, "PUT", f"/{env.bucket}/{key}", body=b"slightly skewed", when=when)
    assert r.status == 200, (r.status, r.body[:300])
    assert backend_bytes(env.backend, env.bucket, key) == b"slightly skewed"


def test_no_signature_is_access_denied(env, request):
    p = env.proxy
    key = _key(request)
    p.client().put_object(Bucket=env.bucket, Key=key, Body=b"private")
    env.relay.reset()
    port = rawhttp.port_of(p.endpoint)
    host = rawclient.host_of(p.endpoint)
    target = rawclient.encoded_target(f"/{env.bucket}/{key}")
    r = rawhttp.roundtrip(port, "GET", target, {"Host": host})
    assert r.status == 403 and r.s3_code == "AccessDenied", (r.status, r.body[:300])
    r = rawhttp.roundtrip(port, "PUT", target + "-anon", {"Host": host, "Content-Length": "4"}, b"anon")
    assert r.status == 403 and r.s3_code == "AccessDenied", (r.status, r.body[:300])
    r = rawhttp.roundtrip(port, "DELETE", target, {"Host": host})
    assert r.status == 403 and r.s3_code == "AccessDenied", (r.status, r.body[:300])
    assert env.upstream(key) == []
    assert backend_bytes(env.backend, env.bucket, key) == b"private"
    assert backend_head(env.backend, env.bucket, key + "-anon") is None


def test_allow_anonymous_forwards_unsigned_get(s3rver_backend, proxy_factory, backend_bucket_s3rver):
    """With server.allow_anonymous: true an unsigned GET is forwarded unsigned (s3rver serves it),
    while a request with a WRONG signature is still refused, not downgraded to anonymous."""
    b, bucket = s3rver_backend, backend_bucket_s3rver
    data = os.urandom(10_000)
    b.client().put_object(Bucket=bucket, Key="public.bin", Body=data)
    p = proxy_factory([b], server={"allow_anonymous": True})
    port = rawhttp.port_of(p.endpoint)
    r = rawhttp.roundtrip(port, "GET", f"/{bucket}/public.bin", {"Host": rawclient.host_of(p.endpoint)})
    assert r.status == 200 and sha256(r.body) == sha256(data), (r.status, r.body[:300])
    r = rawclient.send(p, "GET", f"/{bucket}/public.bin", secret_key="wrong-secret")
    assert r.status == 403 and r.s3_code == "SignatureDoesNotMatch", (r.status, r.body[:300])
    r = rawclient.send(p, "PUT", f"/{bucket}/via-bad-sig.bin", body=b"x", secret_key="wrong-secret")
    assert r.status == 403 and r.s3_code == "SignatureDoesNotMatch", (r.status, r.body[:300])
    assert backend_head(b, bucket, "via-bad-sig.bin") is None


@pytest.fixture
def backend_bucket_s3rver(s3rver_backend, unique_bucket):
    s3rver_backend.create_bucket(unique_bucket)
    yield unique_bucket
    empty_and_delete(s3rver_backend, unique_bucket)
