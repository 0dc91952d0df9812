"""Real S3 servers the tests run against: s3rver (npm) and OpenStack Swift with s3api.

Each backend lives in its own scratch folder, listens on 127.0.0.1 on ports picked at run time and
is stopped through the PIDs the harness started. Both expose the same small interface:
`kind`, `endpoint`, `host`, `port`, `access_key`, `secret_key`, `region`, `aws_chunked` (the mode
an s3ha config should use for it), `start_seconds`, `stop()`, and `pause()/resume()/kill9()`
acting on the process that serves S3 (for failover tests).
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Iterable, Sequence

from . import clients
from .env import NODE_BIN_DIR, clean_env
from .ports import free_port
from .process import (ManagedProcess, StartupError, http_probe, http_status, start_with_retry,
                      tcp_probe, wait_until)


class Backend:
    """Common interface of a started S3 server."""

    kind = "?"
    region = "us-east-1"
    aws_chunked = "forward"

    def __init__(self, workdir: str | Path | None = None):
        self.workdir = Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix=f"s3ha-{self.kind}-"))
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = "127.0.0.1"
        self.port: int = 0
        self.access_key = ""
        self.secret_key = ""
        self.start_seconds: float | None = None
        self.processes: list[ManagedProcess] = []

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def s3_process(self) -> ManagedProcess:
        """The process that answers S3 requests (the target of pause/resume/kill9)."""
        return self.processes[-1]

    def client(self, **kw):
        """A boto3 S3 client for this backend, talking to it directly."""
        return clients.boto3_client(self.endpoint, self.access_key, self.secret_key, self.region, **kw)

    def create_bucket(self, name: str) -> None:
        self.client().create_bucket(Bucket=name)

    def pause(self) -> None:
        self.s3_process.pause()

    def resume(self) -> None:
        self.s3_process.resume()

    def kill9(self) -> None:
        self.s3_process.kill9()

    @property
    def alive(self) -> bool:
        return bool(self.processes) and all(p.alive for p in self.processes)

    def stop(self) -> None:
        """Stop every process, the S3-facing one first."""
        for p in reversed(self.processes):
            p.stop()

    def log_tails(self, lines: int = 20) -> str:
        return "\n".join(f"== {p.name} ({p.log_path})\n{p.log_tail(lines)}" for p in self.processes)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.endpoint}>"


class S3rverBackend(Backend):
    """s3rver 3.7.1 from tests/integration/js/node_modules. Checks the access key id only, never
    the V4 signature; stores aws-chunked bodies verbatim (so s3ha forwards them as they are)."""

    kind = "s3rver"
    aws_chunked = "forward"

    def __init__(self, workdir: str | Path | None = None, buckets: Iterable[str] = (),
                 timeout: float = 20.0):
        super().__init__(workdir)
        self.access_key = self.secret_key = "S3RVER"
        self.buckets = list(buckets)
        self.binary = NODE_BIN_DIR / "s3rver"
        if not self.binary.exists():
            raise StartupError(f"{self.binary} missing: run scripts/install-deps.sh (npm ci)")
        t0 = time.monotonic()
        start_with_retry(lambda: self._start(timeout))
        self.start_seconds = time.monotonic() - t0

    def _start(self, timeout: float) -> None:
        self.port = free_port()
        data = self.workdir / f"data-{self.port}"
        data.mkdir()
        cmd = [str(self.binary), "-d", str(data), "-a", self.host, "-p", str(self.port),
               "--no-vhost-buckets", "-s"]
        for b in self.buckets:
            cmd += ["--configure-bucket", b]
        proc = ManagedProcess("s3rver", cmd, self.workdir / f"s3rver-{self.port}.log",
                              env=clean_env(home=self.workdir), cwd=self.workdir)
        self.processes = [proc]
        # No health endpoint: any HTTP answer to GET / means it serves requests.
        proc.start([tcp_probe(self.host, self.port),
                    lambda: http_status(f"{self.endpoint}/") is not None], timeout=timeout)


_RING_KINDS = ("object", "container", "account")


class SwiftBackend(Backend):
    """OpenStack Swift (proxy + object/container/account servers + memcached) with the s3api
    middleware and tempauth. A real SigV4 verifier; rejects aws-chunked bodies (501), so s3ha must
    decode them for it."""

    kind = "swift"
    aws_chunked = "decode"

    def __init__(self, workdir: str | Path | None = None, timeout: float = 60.0):
        super().__init__(workdir)
        self.access_key = "test:tester"
        self.secret_key = "testing"
        self.timeouts = timeout
        t0 = time.monotonic()
        start_with_retry(lambda: self._start(timeout))
        self.start_seconds = time.monotonic() - t0

    # -- configuration ----------------------------------------------------------------------
    def _write_configs(self, d: Path, ports: dict[str, int]) -> None:
        (d / "devices" / "d1").mkdir(parents=True)
        (d / "swift.conf").write_text(textwrap.dedent("""\
            [swift-hash]
            swift_hash_path_prefix = s3ha-test-prefix
            swift_hash_path_suffix = s3ha-test-suffix

            [storage-policy:0]
            name = gold
            default = yes
            """))
        common = textwrap.dedent(f"""\
            [DEFAULT]
            swift_dir = {d}
            devices = {d}/devices
            mount_check = false
            workers = 0
            user = {pwd.getpwuid(os.getuid()).pw_name}
            bind_ip = 127.0.0.1
            log_level = INFO
            """)
        for kind in _RING_KINDS:
            (d / f"{kind}-server.conf").write_text(
                common + f"bind_port = {ports[kind]}\n\n"
                f"[pipeline:main]\npipeline = {kind}-server\n\n"
                f"[app:{kind}-server]\nuse = egg:swift#{kind}\n")
        (d / "proxy-server.conf").write_text(common + f"bind_port = {ports['proxy']}\n" + textwrap.dedent(f"""
            [pipeline:main]
            pipeline = catch_errors gatekeeper healthcheck proxy-logging cache s3api tempauth copy slo dlo proxy-logging proxy-server

            [app:proxy-server]
            use = egg:swift#proxy
            account_autocreate = true

            [filter:s3api]
            use = egg:swift#s3api
            location = {self.region}

            [filter:tempauth]
            use = egg:swift#tempauth
            user_test_tester = {self.secret_key} .admin

            [filter:cache]
            use = egg:swift#memcache
            memcache_servers = 127.0.0.1:{ports['memcached']}

            [filter:catch_errors]
            use = egg:swift#catch_errors

            [filter:gatekeeper]
            use = egg:swift#gatekeeper

            [filter:healthcheck]
            use = egg:swift#healthcheck

            [filter:proxy-logging]
            use = egg:swift#proxy_logging

            [filter:copy]
            use = egg:swift#copy

            [filter:slo]
            use = egg:swift#slo

            [filter:dlo]
            use = egg:swift#dlo
            """))

    def _build_rings(self, d: Path, ports: dict[str, int], env: dict[str, str]) -> None:
        """The three rings, through swift-ring-builder's entry point (see swift_rings.py)."""
        cmd = ["/usr/bin/python3", str(Path(__file__).with_name("swift_rings.py")), str(d),
               *(f"{k}={ports[k]}" for k in _RING_KINDS)]
        with open(d / "rings.log", "wb") as log:
            rc = subprocess.run(cmd, cwd=d, env=env, stdout=log, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, timeout=60).returncode
        if rc != 0:
            raise StartupError(f"building the Swift rings failed ({rc}):\n"
                               + (d / "rings.log").read_text()[-3000:])

    # -- start-up ---------------------------------------------------------------------------
    def _start(self, timeout: float) -> None:
        self.stop()
        ports = {k: free_port() for k in ("memcached", *_RING_KINDS, "proxy")}
        d = self.workdir / f"swift-{ports['proxy']}"
        d.mkdir()
        env = clean_env(home=d, PYTHONUNBUFFERED="1")
        self._write_configs(d, ports)
        deadline = time.monotonic() + timeout
        t0 = time.monotonic()

        def mk(name: str, cmd: Sequence[str]) -> ManagedProcess:
            return ManagedProcess(name, cmd, d / f"{name}.log", env=env, cwd=d)

        as_root = ["-u", "root"] if os.getuid() == 0 else []  # memcached refuses root without -u
        mc = mk("memcached", ["memcached", *as_root, "-l", "127.0.0.1",
                              "-p", str(ports["memcached"]), "-U", "0", "-m", "64"])
        servers = [mk(f"swift-{k}-server", [f"swift-{k}-server", str(d / f"{k}-server.conf"), "-v"])
                   for k in _RING_KINDS]
        proxy = mk("swift-proxy-server", ["swift-proxy-server", str(d / "proxy-server.conf"), "-v"])
        self.processes = [mc, *servers, proxy]
        self.port = ports["proxy"]
        # The storage servers read no ring at start-up, the proxy does: spawn memcached and the
        # storage servers, build the rings while they import (~3 s each), then spawn the proxy.
        for p in self.processes[:-1]:
            p.spawn()
        self._build_rings(d, ports, env)
        self.timings = {"rings": time.monotonic() - t0}
        proxy.spawn()
        mc.wait_ready([tcp_probe("127.0.0.1", ports["memcached"])], timeout)
        for k, p in zip(_RING_KINDS, servers):
            p.wait_ready([tcp_probe("127.0.0.1", ports[k])], timeout)
        proxy.wait_ready([http_probe(f"{self.endpoint}/healthcheck")], timeout)
        self.timings["healthcheck"] = time.monotonic() - t0
        # The S3 API works end to end (tempauth, memcache, account autocreate).
        last: list[BaseException] = []

        def s3_ok() -> bool:
            try:
                self.client(connect_timeout=2, read_timeout=5).list_buckets()
                return True
            except Exception as e:  # noqa: BLE001 - keep the last error for the report
                last[:] = [e]
                return False

        try:
            wait_until(s3_ok, max(1.0, deadline - time.monotonic()), interval=0.2,
                       what="S3 ListBuckets on Swift")
        except TimeoutError as e:
            tails = self.log_tails()
            self.stop()
            raise StartupError(f"Swift: {e}; last error: {last[0] if last else None}\n{tails}")
        self.timings["s3"] = time.monotonic() - t0

    def stop(self) -> None:
        super().stop()

    def cleanup(self) -> None:
        """Stop and remove the scratch folder."""
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
