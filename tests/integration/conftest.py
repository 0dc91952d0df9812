"""pytest fixtures of the s3ha integration harness (see README.md in this folder)."""

from __future__ import annotations

import os
import re
import secrets
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness.backends import S3rverBackend, SwiftBackend  # noqa: E402
from harness.env import scrub_process_env  # noqa: E402
from harness.s3ha import S3haProcess, s3ha_bin  # noqa: E402

_started: dict[str, object] = {}  # session backends by kind, for the summary and failure logs


def pytest_configure(config):
    # In-process boto3 must not see the machine's CA-bundle/proxy/AWS profile variables.
    scrub_process_env()


def pytest_collection_modifyitems(items):
    # A test that asks for a backend fixture by name gets its marker (`-m "not swift"` works).
    for item in items:
        for kind in ("s3rver", "swift"):
            if f"{kind}_backend" in item.fixturenames:
                item.add_marker(getattr(pytest.mark, kind))


@pytest.fixture(scope="session")
def s3rver_backend(tmp_path_factory):
    """s3rver on a free port, started once per session (key S3RVER/S3RVER)."""
    b = S3rverBackend(tmp_path_factory.mktemp("s3rver"))
    _started["s3rver"] = b
    yield b
    b.stop()


@pytest.fixture(scope="session")
def swift_backend(tmp_path_factory):
    """Swift + s3api + tempauth on free ports, started once per session (test:tester/testing)."""
    b = SwiftBackend(tmp_path_factory.mktemp("swift"))
    _started["swift"] = b
    yield b
    b.stop()


BACKEND_KINDS = [pytest.param("s3rver", marks=pytest.mark.s3rver),
                 pytest.param("swift", marks=pytest.mark.swift)]


@pytest.fixture(params=BACKEND_KINDS)
def backend(request):
    """Each session backend in turn (tests using it run once per kind)."""
    return request.getfixturevalue(f"{request.param}_backend")


def bucket_name(hint: str = "t") -> str:
    """A valid, unique S3 bucket name (3-63 chars, lowercase letters, digits, hyphens)."""
    base = re.sub(r"[^a-z0-9-]+", "-", hint.lower()).strip("-")[:40].strip("-") or "t"
    return f"{base}-{secrets.token_hex(4)}"


@pytest.fixture
def unique_bucket(request) -> str:
    """A fresh bucket name derived from the test name (not created)."""
    return bucket_name(request.node.originalname)


@pytest.fixture
def s3ha_factory(request, tmp_path):
    """`start(backends, **kw) -> S3haProcess`: a started s3ha with a generated config; every
    process started through it is stopped when the test ends. Keyword arguments go to
    S3haProcess (access_key=, secret_key=, timeout=, env=, and config section overrides)."""
    procs: list[S3haProcess] = []
    request.node._harness_s3ha = procs

    def start(backends, **kw) -> S3haProcess:
        p = S3haProcess(backends, tmp_path / f"s3ha-{len(procs)}", **kw)
        procs.append(p)
        return p

    yield start
    for p in procs:
        p.stop()


@pytest.fixture
def backend_bucket(backend, unique_bucket):
    """`unique_bucket`, created directly on `backend`; emptied and deleted there afterwards."""
    from harness.s3util import empty_and_delete
    backend.create_bucket(unique_bucket)
    yield unique_bucket
    empty_and_delete(backend, unique_bucket)


class _DirectToBackend:
    """Stands in for the shared s3ha when S3HA_PROXY_TESTS_DIRECT=1: the `proxy` tests then talk to
    the backend itself, which checks the tests' expectations about the backends (e.g. what Swift
    does with a key) without s3ha. Refusals s3ha adds (s3rver verifies no signature) fail there.
    A development aid only: it says nothing about s3ha."""

    def __init__(self, backend):
        self.backend = backend
        self.endpoint = backend.endpoint
        self.access_key, self.secret_key, self.region = (backend.access_key, backend.secret_key,
                                                         backend.region)

    def client(self, **kw):
        return self.backend.client(**kw)


@pytest.fixture(scope="session")
def _shared_s3ha(tmp_path_factory):
    """Session cache of s3ha processes shared by many tests, keyed by backend kind."""
    cache: dict[str, S3haProcess] = {}
    yield cache
    for p in cache.values():
        p.stop()


@pytest.fixture
def proxy(request, backend, _shared_s3ha, tmp_path_factory) -> S3haProcess:
    """A session-shared s3ha in front of `backend` (one per kind), default config except
    `aws_chunked: decode` (so aws-chunked uploads are stored byte-identical on both kinds).
    Restarted when a previous test left it dead. Tests that change the config use s3ha_factory."""
    if os.environ.get("S3HA_PROXY_TESTS_DIRECT") == "1":
        return _DirectToBackend(backend)  # checks the tests' expectations, not s3ha (see below)
    p = _shared_s3ha.get(backend.kind)
    if p is None or p.process is None or not p.process.alive:
        if p is not None:
            p.stop()
        # Lenient checks: these tests are about the data path, and on a loaded machine a Swift
        # check can take longer than the harness default 500 ms; two slow ones would mark the
        # only backend down and turn the next requests into 503s.
        lenient = {"interval": "2s", "timeout": "1500ms", "fall": 3}
        p = S3haProcess([{"backend": backend, "aws_chunked": "decode", "health_check": lenient}],
                        tmp_path_factory.mktemp(f"s3ha-shared-{backend.kind}"), wait_admin=False)
        _shared_s3ha[backend.kind] = p
    request.node._harness_shared_s3ha = [p]
    return p


@pytest.fixture
def proxy_factory(s3ha_factory):
    """s3ha_factory for the data-path tests (test_proxy_*): ready once the S3 listener accepts
    (they never use the admin endpoint, so they do not wait for it)."""

    def start(backends, **kw) -> S3haProcess:
        kw.setdefault("wait_admin", False)
        return s3ha_factory(backends, **kw)

    return start


@pytest.fixture(scope="session")
def s3ha_binary() -> Path:
    return s3ha_bin()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the tail of each s3ha log and of the backends' logs to the report."""
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    for p in [*getattr(item, "_harness_s3ha", []), *getattr(item, "_harness_shared_s3ha", [])]:
        if p.process is not None:
            rep.sections.append((f"s3ha log {p.log_path}", p.process.log_tail(60)))
    for kind, b in _started.items():
        if kind in item.fixturenames or f"{kind}_backend" in item.fixturenames or "backend" in item.fixturenames:
            rep.sections.append((f"{kind} backend logs", b.log_tails(15)))


def pytest_terminal_summary(terminalreporter):
    if os.environ.get("S3HA_PROXY_TESTS_DIRECT") == "1":
        terminalreporter.write_line("harness: S3HA_PROXY_TESTS_DIRECT=1: `proxy` tests ran against "
                                    "the backends directly, NOT through s3ha", red=True)
    for kind, b in _started.items():
        extra = getattr(b, "timings", None)
        detail = ", ".join(f"{k} {v:.2f}s" for k, v in extra.items()) if extra else ""
        terminalreporter.write_line(
            f"harness: {kind} backend at {b.endpoint} started in {b.start_seconds:.2f}s"
            + (f" ({detail})" if detail else ""))
