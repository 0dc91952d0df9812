"""The real s3ha binary: config generation, `--check-config`, and a started proxy process."""

from __future__ import annotations

import copy
import os
import secrets
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

import yaml

from . import clients
from .backends import Backend
from .env import REPO_ROOT, clean_env
from .ports import free_port
from .process import ManagedProcess, StartupError, start_with_retry, tcp_probe

DEFAULT_HEALTH_CHECK = {"type": "s3", "interval": "1s", "timeout": "500ms", "rise": 1, "fall": 2}

# A sanitizer build of s3ha (scripts/test.sh --sanitize) reports on stderr, i.e. in its log: any
# such report fails the test that stops the process. The options pass through to s3ha.
SANITIZER_MARKERS = ("runtime error:", "AddressSanitizer", "LeakSanitizer")
SANITIZER_ENV = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS", "ASAN_SYMBOLIZER_PATH")


def s3ha_bin() -> Path:
    """The binary under test: $S3HA_BIN, else <repo>/build/s3ha."""
    return Path(os.environ.get("S3HA_BIN") or REPO_ROOT / "build" / "s3ha")


def s3ha_help(binary: str | os.PathLike | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary or s3ha_bin()), "--help"], capture_output=True, text=True,
                          timeout=30, env=clean_env(), stdin=subprocess.DEVNULL)


def check_config(path: str | os.PathLike, binary: str | os.PathLike | None = None,
                 timeout: float = 30.0) -> subprocess.CompletedProcess:
    """`s3ha --check-config PATH` (exit 0 ok, 1 invalid configuration, 64 bad command line)."""
    return subprocess.run([str(binary or s3ha_bin()), "--check-config", str(path)],
                          capture_output=True, text=True, timeout=timeout, env=clean_env(),
                          stdin=subprocess.DEVNULL)


def backend_entry(backend: Backend | Mapping[str, Any], index: int) -> dict[str, Any]:
    """One `backends:` item. `backend` is a started Backend, or a dict of keys; a dict holding
    `backend: <Backend>` starts from that backend and overrides the other keys it gives."""
    if isinstance(backend, Backend):
        backend = {"backend": backend}
    spec = dict(backend)
    b = spec.pop("backend", None)
    entry: dict[str, Any] = {
        "name": f"b{index}",
        "endpoint": b.endpoint if b is not None else None,
        "region": b.region if b is not None else "us-east-1",
        "access_key": b.access_key if b is not None else None,
        "secret_key": b.secret_key if b is not None else None,
        "priority": index + 1,
        "aws_chunked": b.aws_chunked if b is not None else "forward",
        "health_check": dict(DEFAULT_HEALTH_CHECK),
    }
    return deep_merge({k: v for k, v in entry.items() if v is not None}, spec)


def deep_merge(base: dict[str, Any], over: Mapping[str, Any]) -> dict[str, Any]:
    """`over` merged into a copy of `base`: dicts merge, other values replace, None deletes."""
    out = copy.deepcopy(base)
    for k, v in over.items():
        if v is None:
            out.pop(k, None)
        elif isinstance(v, Mapping) and isinstance(out.get(k), dict):
            out[k] = deep_merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def make_config(backends: Sequence[Backend | Mapping[str, Any]], *, listen_port: int,
                admin_port: int, credentials: Iterable[tuple[str, str]], **overrides: Any) -> dict:
    """The config dict s3ha reads. `overrides` are top-level sections deep-merged over the
    defaults (e.g. `routing={"policy": "round_robin"}`, `logging={"level": "debug"}`,
    `server={"workers": 1}`); `backends=[...]` there replaces the generated list."""
    cfg: dict[str, Any] = {
        "server": {"listen": f"127.0.0.1:{listen_port}", "workers": 2, "region": "us-east-1"},
        "admin": {"listen": f"127.0.0.1:{admin_port}"},
        "credentials": [{"access_key": ak, "secret_key": sk} for ak, sk in credentials],
        "backends": [backend_entry(b, i) for i, b in enumerate(backends)],
        "routing": {"policy": "failover"},
        "logging": {"level": "info", "format": "text", "access_log": True},
    }
    return deep_merge(cfg, overrides)


def write_config(path: str | os.PathLike, cfg: Mapping[str, Any]) -> Path:
    p = Path(path)
    p.write_text(yaml.safe_dump(dict(cfg), sort_keys=False, default_flow_style=False))
    return p


def _port_of(listen: str) -> int:
    return int(str(listen).rsplit(":", 1)[1])


class S3haProcess:
    """A started `s3ha --config FILE` with a generated config, on free ports of 127.0.0.1.

    Attributes: endpoint, admin_endpoint, access_key, secret_key, region, config (dict),
    config_path, log_path, process (ManagedProcess), pid.
    """

    def __init__(self, backends: Sequence[Backend | Mapping[str, Any]], workdir=None, *,
                 binary: str | os.PathLike | None = None, access_key: str = "s3ha-test-client",
                 secret_key: str | None = None, extra_credentials: Iterable[tuple[str, str]] = (),
                 timeout: float = 15.0, start: bool = True, env: Mapping[str, str] | None = None,
                 wait_admin: bool = True, **overrides: Any):
        self.binary = Path(binary or s3ha_bin())
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="s3ha-proxy-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.access_key = access_key
        self.secret_key = secret_key or "s3ha-test-secret-" + secrets.token_hex(8)
        self.backends = list(backends)
        self._credentials = [(self.access_key, self.secret_key), *extra_credentials]
        self._overrides = overrides
        self._env = dict(env or {})
        self._timeout = timeout
        self._wait_admin = wait_admin  # False: ready once the S3 listener accepts
        self.process: ManagedProcess | None = None
        self._logs: list[Path] = []  # every log this object's processes wrote
        self.config: dict[str, Any] = {}
        self.config_path: Path | None = None
        if not self.binary.exists():
            raise StartupError(f"s3ha binary not found at {self.binary} (build it or set S3HA_BIN)")
        if start:
            self.start()

    def _generate(self) -> None:
        self.config = make_config(self.backends, listen_port=free_port(), admin_port=free_port(),
                                  credentials=self._credentials, **self._overrides)
        port = _port_of(self.config["server"]["listen"])
        self.config_path = write_config(self.workdir / f"s3ha-{port}.yaml", self.config)

    def start(self) -> "S3haProcess":
        def attempt():
            self._generate()
            sanitizer_env = {k: os.environ[k] for k in SANITIZER_ENV if k in os.environ}
            self.process = ManagedProcess(
                "s3ha", [self.binary, "--config", self.config_path],
                self.workdir / f"{self.config_path.stem}.log",
                env=clean_env(home=self.workdir, **{**sanitizer_env, **self._env}), cwd=self.workdir)
            self._logs.append(self.process.log_path)
            probes = [tcp_probe("127.0.0.1", _port_of(self.config["server"]["listen"]))]
            if "admin" in self.config and self._wait_admin:
                probes.append(tcp_probe("127.0.0.1", _port_of(self.config["admin"]["listen"])))
            self.process.start(probes, timeout=self._timeout)

        start_with_retry(attempt)
        return self

    # -- addresses and credentials ----------------------------------------------------------
    @property
    def region(self) -> str:
        return self.config.get("server", {}).get("region", "us-east-1")

    @property
    def endpoint(self) -> str:
        return f"http://{self.config['server']['listen']}"

    @property
    def admin_endpoint(self) -> str:
        return f"http://{self.config['admin']['listen']}"

    @property
    def log_path(self) -> Path:
        assert self.process is not None
        return self.process.log_path

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def client(self, **kw):
        """A boto3 client signed with this proxy's client credentials."""
        return clients.boto3_client(self.endpoint, self.access_key, self.secret_key, self.region, **kw)

    # -- lifecycle --------------------------------------------------------------------------
    def stop(self, grace: float = 10.0) -> int | None:
        status = self.process.stop(grace) if self.process else None
        self.assert_no_sanitizer_report()
        return status

    def assert_no_sanitizer_report(self) -> None:
        """AssertionError when a log of this s3ha holds an ASan/UBSan/LSan report (LeakSanitizer
        reports at exit: call after stop())."""
        for log in dict.fromkeys(self._logs):
            text = log.read_text(errors="replace") if log.exists() else ""
            found = [m for m in SANITIZER_MARKERS if m in text]
            if found:
                first = min(text.index(m) for m in found)
                report = "\n".join(text[text.rfind("\n", 0, first) + 1:].splitlines()[:200])
                raise AssertionError(f"sanitizer report in {log}:\n{report}")

    def kill9(self) -> None:
        assert self.process is not None
        self.process.kill9()

    def send_signal(self, sig: int = signal.SIGHUP) -> None:
        """E.g. SIGHUP after rewrite_config() for a reload."""
        assert self.process is not None and self.process.alive
        os.kill(self.process.pid, sig)

    def rewrite_config(self, **overrides: Any) -> Path:
        """Deep-merge `overrides` into the current config and rewrite the same file."""
        self.config = deep_merge(self.config, overrides)
        assert self.config_path is not None
        return write_config(self.config_path, self.config)

    def rss_kib(self) -> int | None:
        return self.process.rss_kib() if self.process else None

    def rss_peak_kib(self) -> int | None:
        """VmHWM of /proc/PID/status: the peak resident set size, in KiB."""
        return self.process.rss_peak_kib() if self.process else None

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_log(self, text: str, timeout: float = 10.0) -> str:
        """The log once it contains text (a line may be written just after the client saw the
        effect it describes); AssertionError after timeout seconds."""
        deadline = time.monotonic() + timeout
        while text not in (log := self.log_text()):
            assert time.monotonic() < deadline, f"s3ha never logged {text!r}"
            time.sleep(0.1)
        return log

    def wait_backends_up(self, count: int, timeout: float = 30.0) -> "S3haProcess":
        """Self, once the health checks have found backends b0..b<count-1> up. Until a backend
        is judged, traffic goes to the first one whose check passed (pool::select), which is
        not always b0: a test that needs the configured order waits for this first."""
        for i in range(count):
            self.wait_log(f"backend b{i} is up", timeout=timeout)
        return self

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self) -> str:
        return f"<S3haProcess {self.endpoint if self.config else '?'} pid={self.pid}>"
