"""Backend failures and selection policies (issue 4) with real s3rver backends.

Faults a real server cannot produce on demand (accepting connections but never answering,
resetting them, a health endpoint answering 503 while S3 still works, a slow backend) come from
harness/fault_proxy.py, a small TCP proxy of ours in front of the REAL backend; a hung process is
the real thing (SIGSTOP). Requests are counted per backend at the fault proxies (what reached a
backend) and from s3ha's access log (`backend=` field: which backend answered).
"""

from __future__ import annotations

import http.client
import socket
import time

import pytest

from harness.clients import boto3_client
from harness.fault_proxy import FaultProxy

pytestmark = [pytest.mark.s3rver]


# -- the fault proxy itself (light checks, against the real s3rver) ------------------------------
@pytest.fixture
def fp(s3rver_backend):
    p = FaultProxy.for_backend(s3rver_backend, health_path="/")
    yield p
    p.stop()


def _get(port: int, path: str, timeout: float = 5.0, method: str = "GET") -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def test_fault_proxy_pass_delay_and_health_override(fp, s3rver_backend, unique_bucket):
    s3rver_backend.create_bucket(unique_bucket)
    direct = s3rver_backend.client()
    body = bytes(range(256)) * 40
    direct.put_object(Bucket=unique_bucket, Key="k", Body=body)
    via = boto3_client(fp.endpoint, s3rver_backend.access_key, s3rver_backend.secret_key)
    assert via.get_object(Bucket=unique_bucket, Key="k")["Body"].read() == body
    via.put_object(Bucket=unique_bucket, Key="k2", Body=b"through the fault proxy")
    assert direct.get_object(Bucket=unique_bucket, Key="k2")["Body"].read() == \
        b"through the fault proxy"
    seen = [(r.method, r.path, r.action) for r in fp.data_requests()]
    assert ("GET", f"/{unique_bucket}/k", "forwarded") in seen
    assert ("PUT", f"/{unique_bucket}/k2", "forwarded") in seen

    # health path forwarded to the real backend while no override is set (s3rver: 200)
    assert _get(fp.port, "/")[0] == 200
    fp.set_health(503)
    status, text = _get(fp.port, "/")
    assert status == 503 and b"health override" in text
    assert _get(fp.port, "/", method="HEAD")[0] == 503
    assert _get(fp.port, f"/{unique_bucket}", method="HEAD")[0] == 200  # other paths untouched
    assert len(fp.health_requests()) == 2

    fp.set_mode("delay", delay=0.4)
    t0 = time.monotonic()
    assert via.get_object(Bucket=unique_bucket, Key="k")["Body"].read() == body
    assert time.monotonic() - t0 >= 0.4
    assert fp.data_requests()[-1].action == "delayed"


def test_fault_proxy_blackhole_reset_refuse(fp, s3rver_backend):
    # a kept-alive connection made while passing
    keep = http.client.HTTPConnection("127.0.0.1", fp.port, timeout=5)
    keep.request("GET", "/")
    r = keep.getresponse()
    assert r.status == 200 and r.read()

    fp.set_mode("blackhole")
    with pytest.raises(socket.timeout):
        _get(fp.port, "/x", timeout=0.5)
    keep.sock.settimeout(0.5)
    keep.request("GET", "/y")  # the kept-alive connection hangs too
    with pytest.raises(socket.timeout):
        keep.getresponse()
    keep.close()
    assert [r.action for r in fp.data_requests()[-2:]] == ["blackholed", "blackholed"]

    fp.set_mode("reset")
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
        _get(fp.port, "/")

    fp.set_mode("pass")
    keep = http.client.HTTPConnection("127.0.0.1", fp.port, timeout=5)
    keep.request("GET", "/")
    r = keep.getresponse()
    assert r.status == 200 and r.read()
    fp.set_mode("refuse")
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", fp.port), timeout=2)
    keep.request("GET", "/")  # the open connection died with the "process"
    with pytest.raises((ConnectionResetError, http.client.RemoteDisconnected, BrokenPipeError)):
        keep.getresponse()
    keep.close()
    fp.set_mode("pass")  # listens again on the same port
    assert _get(fp.port, "/")[0] == 200
    assert fp.connection_count >= 4
