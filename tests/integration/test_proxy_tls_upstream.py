"""Upstream TLS: s3ha talks https to a backend and verifies its certificate.

A real HAProxy terminates TLS (certificate signed by a CA made here with openssl, SANs
IP:127.0.0.1 and DNS:s3-backend.test) in front of a real s3rver. s3ha's backend is
`https://127.0.0.1:<haproxy port>` with the `tls:` options of README "Configuration":
`ca_file`, `server_name` (SNI and the name verified) and `verify`. A certificate that does not
verify must give the client 503 ServiceUnavailable (an S3 XML error, promptly) and a log line
saying why; nothing is forwarded.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import time
import urllib.request

import pytest

from conftest import bucket_name
from harness import rawclient
from harness.env import clean_env
from harness.ports import free_port
from harness.process import ManagedProcess, start_with_retry, tcp_probe, wait_until
from harness.s3util import MIB, backend_sha256, empty_and_delete, sha256

pytestmark = [pytest.mark.s3ha, pytest.mark.s3rver]

HAPROXY = "/usr/sbin/haproxy"
SERVER_DNS = "s3-backend.test"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def _make_pki(d):
    """A CA and a server certificate it signed (SAN IP:127.0.0.1, DNS:s3-backend.test)."""
    ca_key, ca, key, csr, crt = (d / n for n in ("ca.key", "ca.pem", "srv.key", "srv.csr", "srv.pem"))
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(ca_key), "-out", str(ca),
             "-days", "2", "-subj", "/CN=s3ha test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr),
             "-subj", "/CN=s3 backend")
    ext = d / "srv.ext"
    ext.write_text(f"subjectAltName=IP:127.0.0.1,DNS:{SERVER_DNS}\n"
                   "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key),
             "-CAcreateserial", "-out", str(crt), "-days", "2", "-extfile", str(ext))
    bundle = d / "haproxy.pem"  # HAProxy reads certificate and key from one file
    bundle.write_text(crt.read_text() + key.read_text())
    return ca, bundle


class _TlsFront:
    """HAProxy terminating TLS on a free port in front of an http backend."""

    def __init__(self, workdir, cert_bundle, backend_port: int):
        # A port picked free can be taken before HAProxy binds it: start again on a new one.
        start_with_retry(lambda: self._start(workdir, cert_bundle, backend_port))

    def _start(self, workdir, cert_bundle, backend_port: int) -> None:
        self.port = free_port()
        cfg = workdir / "haproxy.cfg"
        cfg.write_text(f"""global
    maxconn 256
defaults
    mode http
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend tls
    bind 127.0.0.1:{self.port} ssl crt {cert_bundle}
    default_backend s3
backend s3
    server s3 127.0.0.1:{backend_port}
""")
        self.proc = ManagedProcess("haproxy", [HAPROXY, "-db", "-f", str(cfg)],
                                   workdir / "haproxy.log", env=clean_env(home=workdir), cwd=workdir)
        self.proc.start([tcp_probe("127.0.0.1", self.port)], timeout=15)

    def stop(self) -> None:
        self.proc.stop()


@pytest.fixture(scope="module")
def tls_setup(s3rver_backend, tmp_path_factory):
    if not os.path.exists(HAPROXY) or shutil.which("openssl") is None:
        pytest.fail(f"{HAPROXY} and openssl are required (scripts/install-deps.sh)")
    d = tmp_path_factory.mktemp("tls-upstream")
    ca, bundle = _make_pki(d)
    front = _TlsFront(d, bundle, s3rver_backend.port)
    bucket = bucket_name("tlsup")
    s3rver_backend.create_bucket(bucket)
    yield ca, front, bucket
    front.stop()
    empty_and_delete(s3rver_backend, bucket)


def _https_backend(s3rver_backend, front, **tls):
    return {"backend": s3rver_backend, "endpoint": f"https://127.0.0.1:{front.port}", "tls": tls}


def _roundtrip(p, backend, bucket, key, data: bytes) -> None:
    c = p.client()
    c.put_object(Bucket=bucket, Key=key, Body=data)
    assert backend_sha256(backend, bucket, key) == (sha256(data), len(data))
    got = c.get_object(Bucket=bucket, Key=key)["Body"].read()
    assert len(got) == len(data) and got == data


def _assert_refused(p, bucket: str, key: str) -> None:
    """The request gets 503 ServiceUnavailable (S3 XML) promptly, and the log says why."""
    t0 = time.monotonic()
    r = rawclient.send(p, "GET", f"/{bucket}/{key}", timeout=15)
    elapsed = time.monotonic() - t0
    assert r.status == 503, (r.status, r.body[:300])
    assert r.s3_code == "ServiceUnavailable", r.body[:300]
    assert elapsed < 10, f"503 only after {elapsed:.1f}s"
    assert p.process.alive
    wait_until(lambda: "certificate verify failed" in p.log_path.read_text(errors="replace"),
               timeout=10, what="'certificate verify failed' in the s3ha log")


def test_https_backend_with_ca_file(s3rver_backend, tls_setup, proxy_factory):
    ca, front, bucket = tls_setup
    p = proxy_factory([_https_backend(s3rver_backend, front, ca_file=str(ca))])
    _roundtrip(p, s3rver_backend, bucket, "small.txt", b"hello over upstream TLS\n")
    big = os.urandom(5 * MIB + 123)
    _roundtrip(p, s3rver_backend, bucket, "big.bin", big)
    # a presigned GET through s3ha, fetched by a plain HTTP client
    url = p.client().generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "big.bin"},
                                            ExpiresIn=300)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=30) as resp:
        assert resp.status == 200
        assert hashlib.sha256(resp.read()).hexdigest() == sha256(big)


def test_https_backend_server_name_sni(s3rver_backend, tls_setup, proxy_factory):
    ca, front, bucket = tls_setup
    p = proxy_factory([_https_backend(s3rver_backend, front, ca_file=str(ca),
                                      server_name=SERVER_DNS)])
    _roundtrip(p, s3rver_backend, bucket, "sni.bin", os.urandom(300 * 1024))


def test_https_backend_wrong_server_name_is_503(s3rver_backend, tls_setup, proxy_factory):
    ca, front, bucket = tls_setup
    s3rver_backend.client().put_object(Bucket=bucket, Key="there", Body=b"x")
    p = proxy_factory([_https_backend(s3rver_backend, front, ca_file=str(ca),
                                      server_name="wrong.test")])
    _assert_refused(p, bucket, "there")


def test_https_backend_unknown_ca_with_system_store_is_503(s3rver_backend, tls_setup,
                                                           proxy_factory):
    _, front, bucket = tls_setup
    s3rver_backend.client().put_object(Bucket=bucket, Key="there", Body=b"x")
    p = proxy_factory([_https_backend(s3rver_backend, front)])  # no ca_file: system store
    _assert_refused(p, bucket, "there")


def test_https_backend_verify_false_accepts_unknown_ca(s3rver_backend, tls_setup, proxy_factory):
    _, front, bucket = tls_setup
    p = proxy_factory([_https_backend(s3rver_backend, front, verify=False)])
    _roundtrip(p, s3rver_backend, bucket, "noverify.bin", os.urandom(64 * 1024 + 7))


def test_plain_http_to_the_tls_port_is_not_served(s3rver_backend, tls_setup, proxy_factory):
    """Sanity check of the setup: the front really is TLS-only (an http:// backend on the same
    port gets no S3 answer), so the tests above did go through TLS."""
    _, front, bucket = tls_setup
    with socket.create_connection(("127.0.0.1", front.port), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        try:
            reply = s.recv(4096)
        except (ConnectionResetError, socket.timeout):
            reply = b""
    assert b"ListAllMyBucketsResult" not in reply
