"""Prometheus metrics and the admin endpoints, end to end.

Real s3rver backends, real boto3, the real s3ha binary, Debian's real `promtool` and a real
Prometheus server scraping s3ha. Counters are asserted with exact values for a controlled
sequence of requests (boto3 retries off, so every client call is exactly one request).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import threading
import time
from pathlib import Path

import botocore.exceptions
import pytest
import requests

from harness.backends import S3rverBackend
from harness.clients import boto3_client
from harness.env import clean_env
from harness.ports import free_port
from harness.process import (TCP_CLOSE_WAIT, ManagedProcess, http_probe, start_with_retry,
                             tcp_states_to, wait_until)

pytestmark = [pytest.mark.s3ha, pytest.mark.s3rver]

BUCKET = "metrics-bucket"
PROMTOOL = "/usr/bin/promtool"
PROMETHEUS = "/usr/bin/prometheus"
# Slow health checks for the backends a test kills: a request right after the kill reaches the
# dead backend (still "up": fall 3 * 2 s) and fails over, which makes the failover counters exact.
SLOW_CHECK = {"interval": "2s", "jitter": "100ms", "timeout": "500ms", "rise": 1, "fall": 3}
# Quick to see a killed backend (its checks fail at once: connection refused), but not flipped
# by one slow check of a busy s3rver: two in a row must fail. With fall 1 and a 250 ms timeout,
# one slow check could move traffic to b1 for good (manual failback) and break the counts.
FAST_CHECK = {"interval": "500ms", "jitter": "50ms", "timeout": "450ms", "rise": 1, "fall": 2}

_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)$')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text: str) -> dict[tuple[str, frozenset], float]:
    """{(name, frozenset(labels.items())): value} of every sample line."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        assert m, f"unparsable sample line: {line!r}"
        labels = frozenset(_LABEL.findall(m.group(3) or ""))
        out[(m.group(1), labels)] = float(m.group(4))
    return out


def value(samples, name: str, **labels) -> float:
    """The sample's value; 0 when absent (s3ha renders request series once they are non-zero)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def admin(proxy, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    with requests.Session() as s:
        s.trust_env = False  # never a proxy from the environment
        return s.request(method, proxy.admin_endpoint + path, headers=headers, timeout=10, **kw)


def scrape(proxy, token: str | None = None) -> str:
    r = admin(proxy, "GET", "/metrics", token)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"] == "text/plain; version=0.0.4; charset=utf-8"
    return r.text


def backends_state(proxy, token: str | None = None) -> dict[str, dict]:
    r = admin(proxy, "GET", "/admin/backends", token)
    assert r.status_code == 200, r.text
    return {b["name"]: b for b in r.json()["backends"]}


def wait_backend(proxy, name: str, up: bool, timeout: float = 15.0, token=None) -> None:
    wait_until(lambda: backends_state(proxy, token)[name]["up"] == up, timeout,
               what=f"backend {name} {'up' if up else 'down'}")


def client(proxy, **kw):
    return boto3_client(proxy.endpoint, proxy.access_key, proxy.secret_key, proxy.region,
                        max_attempts=0, **kw)  # botocore: retries after the first try


def promtool_check(text: str) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True,
                          text=True, timeout=30, env=clean_env())


@pytest.fixture
def two_backends(tmp_path):
    """Two s3rver backends holding BUCKET, each seeded with the same object `seed`."""
    bs = [S3rverBackend(tmp_path / f"s3rver{i}", buckets=[BUCKET]) for i in range(2)]
    for b in bs:
        b.client().put_object(Bucket=BUCKET, Key="seed", Body=b"seed-bytes")
    yield bs
    for b in bs:
        b.stop()


def start_proxy(s3ha_factory, backends, checks=(SLOW_CHECK, SLOW_CHECK), **kw):
    entries = [{"backend": b, "health_check": dict(c)} for b, c in zip(backends, checks)]
    p = s3ha_factory(entries, **kw)
    for i in range(len(backends)):
        wait_backend(p, f"b{i}", True, token=kw.get("admin", {}).get("token"))
    return p


@pytest.mark.skipif(not Path(PROMTOOL).exists(), reason="promtool missing (apt install prometheus)")
def test_metrics_exact_after_traffic_and_failover(two_backends, s3ha_factory):
    b0, b1 = two_backends
    proxy = start_proxy(s3ha_factory, two_backends)
    c = client(proxy)
    body = b"m" * 10_000
    c.put_object(Bucket=BUCKET, Key="k1", Body=body)
    assert c.get_object(Bucket=BUCKET, Key="k1")["Body"].read() == body
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.get_object(Bucket=BUCKET, Key="missing")
    assert e.value.response["Error"]["Code"] == "NoSuchKey"
    bad = boto3_client(proxy.endpoint, proxy.access_key, "wrong-secret", max_attempts=0)
    with pytest.raises(botocore.exceptions.ClientError) as e:
        bad.get_object(Bucket=BUCKET, Key="k1")
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"

    # A worker records a request's metrics just after writing its last byte: scrape once the
    # last one is in (the exact counts are asserted below).
    s: dict = {}

    def settled() -> bool:
        s.clear()
        s.update(parse_metrics(scrape(proxy)))
        total = sum(v for (n, _), v in s.items() if n == "s3ha_requests_total")
        return total >= 4 and value(s, "s3ha_requests_in_flight") == 0
    wait_until(settled, timeout=5, interval=0.05, what="the four requests in the metrics")
    assert value(s, "s3ha_requests_total", backend="b0", operation="PutObject", status_class="2xx") == 1
    assert value(s, "s3ha_requests_total", backend="b0", operation="GetObject", status_class="2xx") == 1
    assert value(s, "s3ha_requests_total", backend="b0", operation="GetObject", status_class="4xx") == 1
    assert value(s, "s3ha_requests_total", backend="none", operation="GetObject", status_class="4xx") == 1
    assert sum(v for (n, _), v in s.items() if n == "s3ha_requests_total") == 4
    assert value(s, "s3ha_requests_rejected_total", reason="auth", code="SignatureDoesNotMatch") == 1
    assert value(s, "s3ha_downstream_received_bytes_total") == len(body)
    assert value(s, "s3ha_upstream_sent_bytes_total", backend="b0") == len(body)
    assert value(s, "s3ha_downstream_sent_bytes_total") >= len(body)  # + the NoSuchKey XML
    assert value(s, "s3ha_request_duration_seconds_count", backend="b0", operation="GetObject") == 2
    assert value(s, "s3ha_upstream_first_byte_seconds_count", backend="b0") == 3
    assert value(s, "s3ha_backend_up", backend="b0") == 1
    assert value(s, "s3ha_backend_active", backend="b0") == 1
    assert value(s, "s3ha_backend_active", backend="b1") == 0
    assert value(s, "s3ha_health_checks_total", backend="b1", result="success") >= 1
    assert value(s, "s3ha_requests_in_flight") == 0
    # The keep-alive upstream connection went back to the pool; the client's is still open.
    assert value(s, "s3ha_upstream_connections", backend="b0", state="busy") == 0
    assert value(s, "s3ha_upstream_connections", backend="b0", state="idle") >= 1
    assert value(s, "s3ha_downstream_connections") >= 1

    # Failover: kill -9 the primary; the next GET finds it dead (still "up": slow checks) and
    # moves to b1 within the request.
    b0.kill9()
    assert c.get_object(Bucket=BUCKET, Key="seed")["Body"].read() == b"seed-bytes"
    wait_backend(proxy, "b0", False)
    assert c.get_object(Bucket=BUCKET, Key="seed")["Body"].read() == b"seed-bytes"

    text = scrape(proxy)
    check = promtool_check(text)
    assert check.returncode == 0, f"promtool: {check.stdout}{check.stderr}"
    s = parse_metrics(text)
    assert value(s, "s3ha_failovers_total", **{"from": "b0", "to": "b1", "reason": "connect_failed"}) == 1
    assert sum(v for (n, _), v in s.items() if n == "s3ha_failovers_total") == 1
    assert value(s, "s3ha_retries_total", reason="connect_failed") == 1
    assert value(s, "s3ha_requests_total", backend="b1", operation="GetObject", status_class="2xx") == 2
    assert value(s, "s3ha_backend_up", backend="b0") == 0
    assert value(s, "s3ha_backend_up", backend="b1") == 1
    assert value(s, "s3ha_backend_active", backend="b0") == 0
    assert value(s, "s3ha_backend_active", backend="b1") == 1
    assert value(s, "s3ha_backend_consecutive_failures", backend="b0") >= 3
    assert value(s, "s3ha_backend_failures_total", backend="b0", kind="connect_failed") >= 1
    assert value(s, "s3ha_health_checks_total", backend="b0", result="failure") >= 1
    assert value(s, "s3ha_health_checks_total", backend="b0", result="success") >= 1
    assert value(s, "s3ha_health_check_duration_seconds_count", backend="b0") >= 2
    assert value(s, "s3ha_downstream_connections_total") >= 2
    assert value(s, "s3ha_build_info", version="0.1.0", commit=next(
        dict(labels)["commit"] for (n, labels) in s if n == "s3ha_build_info")) == 1
    # Sample for the report (the lines that matter after a failover).
    print("\n".join(line for line in text.splitlines()
                    if re.match(r"s3ha_(backend_up|backend_active|failovers_total\{from=\"b0\",reason=\"connect_failed\"|retries_total|requests_total|requests_rejected_total\{code=\"SignatureDoesNotMatch\"|health_checks_total|build_info)", line)))


@pytest.mark.skipif(not Path(PROMETHEUS).exists(), reason="prometheus missing (apt install prometheus)")
def test_prometheus_server_scrapes_s3ha(two_backends, s3ha_factory, tmp_path):
    b0, b1 = two_backends
    proxy = start_proxy(s3ha_factory, two_backends, checks=(FAST_CHECK, FAST_CHECK))
    cfg = tmp_path / "prometheus.yml"
    cfg.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 900ms\n"
        "scrape_configs:\n  - job_name: s3ha\n    static_configs:\n"
        f"      - targets: ['{proxy.config['admin']['listen']}']\n")

    def start_prometheus() -> tuple[ManagedProcess, int]:
        # A port picked free can be taken before Prometheus binds it: start_with_retry starts
        # again on a new one.
        port = free_port()
        prom = ManagedProcess(
            "prometheus",
            [PROMETHEUS, f"--config.file={cfg}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{port}", "--log.level=warn"],
            tmp_path / f"prometheus-{port}.log", env=clean_env(home=tmp_path), cwd=tmp_path)
        prom.start([http_probe(f"http://127.0.0.1:{port}/-/ready")], timeout=30)
        return prom, port

    prom, port = start_with_retry(start_prometheus)
    api = f"http://127.0.0.1:{port}/api/v1/query"
    http = requests.Session()
    http.trust_env = False

    def query(q: str) -> dict[str, float]:
        r = http.get(api, params={"query": q}, timeout=5)
        r.raise_for_status()
        data = r.json()["data"]["result"]
        return {x["metric"].get("backend", x["metric"].get("__name__", "")): float(x["value"][1])
                for x in data}

    try:
        wait_until(lambda: query("s3ha_backend_up") == {"b0": 1.0, "b1": 1.0}, 20,
                   what="prometheus: s3ha_backend_up 1 for both backends")

        c = client(proxy)
        for i in range(5):
            c.put_object(Bucket=BUCKET, Key=f"p{i}", Body=b"x" * 100)
        for i in range(5):
            assert c.get_object(Bucket=BUCKET, Key=f"p{i}")["Body"].read() == b"x" * 100
        b0.kill9()
        wait_backend(proxy, "b0", False)
        for _ in range(3):
            assert c.get_object(Bucket=BUCKET, Key="seed")["Body"].read() == b"seed-bytes"

        want_up = {"b0": 0.0, "b1": 1.0}
        wait_until(lambda: query("s3ha_backend_up") == want_up, 20,
                   what="prometheus: s3ha_backend_up 0 for the killed backend")
        want = {"b0": 10.0, "b1": 3.0}  # 5 PUTs + 5 GETs before the kill, 3 GETs after
        q = 'sum by (backend) (s3ha_requests_total{operation=~"PutObject|GetObject",status_class="2xx"})'
        wait_until(lambda: query(q) == want, 20, what=f"prometheus: request counters {want}")
        assert query('s3ha_requests_total{operation="PutObject"}') == {"b0": 5.0}
        assert query("s3ha_backend_active") == {"b0": 0.0, "b1": 1.0}
        assert query('up{job="s3ha"}') == {"up": 1.0}
    finally:
        prom.stop()


def test_admin_endpoints_ready_drain_enable_failback(two_backends, s3ha_factory):
    b0, b1 = two_backends
    proxy = start_proxy(s3ha_factory, two_backends, checks=(FAST_CHECK, FAST_CHECK),
                        routing={"failback": "manual"})
    assert admin(proxy, "GET", "/health/ready").status_code == 200
    assert admin(proxy, "GET", "/health/live").status_code == 200
    assert admin(proxy, "GET", "/health").text == "OK\n"
    c = client(proxy)

    # An in-flight download from b0 keeps going after b0 is drained.
    # 32 MiB: far more than the loopback socket buffers and s3ha's relay buffer hold together.
    big = bytes(range(256)) * (128 * 1024)
    b0.client().put_object(Bucket=BUCKET, Key="big", Body=big)
    resp = c.get_object(Bucket=BUCKET, Key="big")
    first = resp["Body"].read(65536)
    r = admin(proxy, "POST", "/admin/backends/b0/drain")
    assert r.status_code == 200 and r.json() == {"backend": "b0", "drained": True}
    state = backends_state(proxy)
    assert state["b0"]["drained"] is True
    assert state["b0"]["in_flight"] == 1
    rest = resp["Body"].read()
    assert hashlib.sha256(first + rest).hexdigest() == hashlib.sha256(big).hexdigest()
    assert backends_state(proxy)["b0"]["in_flight"] == 0

    # Drained: new requests go to b1 only.
    for i in range(4):
        c.put_object(Bucket=BUCKET, Key=f"d{i}", Body=b"drained")
    assert {o["Key"] for o in b1.client().list_objects_v2(Bucket=BUCKET).get("Contents", [])} >= {
        f"d{i}" for i in range(4)}
    b0_keys = {o["Key"] for o in b0.client().list_objects_v2(Bucket=BUCKET).get("Contents", [])}
    assert not b0_keys & {f"d{i}" for i in range(4)}
    assert backends_state(proxy)["b1"]["active"] is True
    assert admin(proxy, "GET", "/health/ready").status_code == 200  # b1 still serves

    # Enable + manual failback: traffic returns to b0.
    assert admin(proxy, "POST", "/admin/backends/b0/enable").json() == {"backend": "b0", "drained": False}
    assert admin(proxy, "POST", "/admin/failback").status_code == 200
    c.put_object(Bucket=BUCKET, Key="back", Body=b"back")
    assert b0.client().get_object(Bucket=BUCKET, Key="back")["Body"].read() == b"back"
    state = backends_state(proxy)
    assert state["b0"]["active"] is True and state["b1"]["active"] is False

    # Errors: unknown backend, wrong method, unknown path.
    r = admin(proxy, "POST", "/admin/backends/nope/drain")
    assert r.status_code == 404 and "nope" in r.json()["error"]
    r = admin(proxy, "GET", "/admin/backends/b0/drain")
    assert r.status_code == 405 and r.headers["Allow"] == "POST"
    assert admin(proxy, "DELETE", "/admin/backends").status_code == 405
    assert admin(proxy, "GET", "/admin/nothing").status_code == 404

    # Every backend down: not ready (503), live still 200; the data path answers 503 at once.
    b0.kill9()
    b1.kill9()
    wait_until(lambda: admin(proxy, "GET", "/health/ready").status_code == 503, 15,
               what="/health/ready 503 with every backend down")
    assert "no healthy backend" in admin(proxy, "GET", "/health/ready").text
    assert admin(proxy, "GET", "/health/live").status_code == 200
    with pytest.raises(botocore.exceptions.ClientError) as e:
        c.get_object(Bucket=BUCKET, Key="seed")
    assert e.value.response["Error"]["Code"] == "ServiceUnavailable"
    s = parse_metrics(scrape(proxy))
    assert value(s, "s3ha_requests_rejected_total", reason="no_healthy_backend",
                 code="ServiceUnavailable") == 1
    assert value(s, "s3ha_backend_drained", backend="b0") == 0


def test_admin_token(two_backends, s3ha_factory):
    token = "admin-token-" + "x" * 20
    proxy = start_proxy(s3ha_factory, two_backends[:1], checks=(FAST_CHECK,),
                        admin={"token": token})
    for path in ("/metrics", "/admin/backends"):
        for given in (None, "wrong", token + "x"):
            r = admin(proxy, "GET", path, given)
            assert r.status_code == 401, (path, given)
            assert r.headers["WWW-Authenticate"] == 'Bearer realm="s3ha-admin"'
        assert admin(proxy, "GET", path, token).status_code == 200
    assert admin(proxy, "POST", "/admin/backends/b0/drain", "wrong").status_code == 401
    assert backends_state(proxy, token)["b0"]["drained"] is False
    assert admin(proxy, "POST", "/admin/failback").status_code == 401
    # The probes stay open.
    for path in ("/health", "/health/live", "/health/ready"):
        assert admin(proxy, "GET", path).status_code == 200, path
    assert token not in proxy.log_text()


def test_backend_closing_idle_pooled_connections(two_backends, s3ha_factory):
    """s3rver (Node) closes a keep-alive connection after 5 s idle. A bodiless request that gets
    such a pooled connection is retried once on a new one (no liveness probe for it: counted as
    retries_total{reason="stale_connection"}); a request with a body is probed first and so never
    needs that retry. Every request succeeds, and the PUT stores its bytes."""
    p = start_proxy(s3ha_factory, two_backends[:1], checks=(SLOW_CHECK,),
                    server={"workers": 1})
    c = client(p)

    def stale() -> float:
        return value(parse_metrics(scrape(p)), "s3ha_retries_total", reason="stale_connection")

    def wait_backend_closed_pool() -> None:
        # Not a fixed sleep: in a CI run the backend's close had not reached s3ha 6 s after the
        # last request, so the PUT raced it. Wait until every connection s3ha holds to the
        # backend has been closed by the backend (CLOSE_WAIT: its FIN arrived).
        port = two_backends[0].port

        def closed() -> bool:
            states = tcp_states_to(p.pid, port)
            return bool(states) and all(s == TCP_CLOSE_WAIT for s in states)
        time.sleep(5)
        wait_until(closed, timeout=20, interval=0.1, what="backend closing the pooled connection")

    assert c.get_object(Bucket=BUCKET, Key="seed")["Body"].read() == b"seed-bytes"
    assert stale() == 0
    wait_backend_closed_pool()
    assert c.get_object(Bucket=BUCKET, Key="seed")["Body"].read() == b"seed-bytes"
    assert stale() == 1
    wait_backend_closed_pool()
    body = b"after-idle" * 100
    c.put_object(Bucket=BUCKET, Key="after-idle", Body=body)
    assert stale() == 1
    got = two_backends[0].client().get_object(Bucket=BUCKET, Key="after-idle")["Body"].read()
    assert got == body
