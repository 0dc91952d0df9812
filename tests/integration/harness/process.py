"""Start a server process with its own log file, wait until it is ready, stop it by its PID.

Every process is started in its own session (so a Ctrl-C to pytest does not reach it first) and
is stopped only through the PID we started: SIGTERM, then SIGKILL after a grace period. Anything
still running when the interpreter exits is stopped the same way (safety net, not the plan).
"""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable, Iterable, Iterator, NamedTuple, Sequence

Probe = Callable[[], bool]

_ADDR_IN_USE_MARKERS = ("address already in use", "eaddrinuse", "errno 98", "failed to listen")


class StartupError(RuntimeError):
    """A process did not become ready; the message carries the tail of its log."""

    def __init__(self, message: str, *, addr_in_use: bool = False):
        super().__init__(message)
        self.addr_in_use = addr_in_use


def tcp_probe(host: str, port: int) -> Probe:
    """Ready when a TCP connect to host:port succeeds."""

    def probe() -> bool:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            return False

    return probe


_no_proxy_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def http_status(url: str, method: str = "GET", timeout: float = 2.0) -> int | None:
    """HTTP status of one request, or None when nothing answered."""
    req = urllib.request.Request(url, method=method)
    try:
        with _no_proxy_opener.open(req, timeout=timeout) as resp:
            resp.read()
            return resp.status
    except urllib.error.HTTPError as e:
        return e.code
    except (OSError, urllib.error.URLError):
        return None


def http_probe(url: str, expect: Iterable[int] = (200,), method: str = "GET") -> Probe:
    """Ready when `method url` answers with one of the `expect` statuses."""
    expected = set(expect)

    def probe() -> bool:
        return http_status(url, method=method, timeout=1.0) in expected

    return probe


def wait_until(probe: Probe, timeout: float, interval: float = 0.05, what: str = "condition") -> None:
    """Poll `probe` until it returns True; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        if probe():
            return
        if time.monotonic() >= deadline:
            raise TimeoutError(f"timed out after {timeout:.1f}s waiting for {what}")
        time.sleep(interval)


class ManagedProcess:
    """One child process, its log file and its lifecycle."""

    _live: "set[ManagedProcess]" = set()

    def __init__(self, name: str, cmd: Sequence[str], log_path: str | os.PathLike, *,
                 env: dict[str, str], cwd: str | os.PathLike | None = None):
        self.name = name
        self.cmd = [str(c) for c in cmd]
        self.log_path = Path(log_path)
        self.env = env
        self.cwd = cwd
        self.proc: subprocess.Popen | None = None
        self.started_at: float | None = None
        self.ready_after: float | None = None  # seconds from spawn to ready
        self._paused = False

    # -- lifecycle -------------------------------------------------------------------------
    def start(self, probes: Sequence[Probe] = (), timeout: float = 15.0) -> "ManagedProcess":
        """Spawn the process and wait until every probe passes (in order)."""
        self.spawn()
        self.wait_ready(probes, timeout)
        return self

    def spawn(self) -> "ManagedProcess":
        """Spawn without waiting (start several, then wait_ready() on each)."""
        if self.proc is not None:
            raise RuntimeError(f"{self.name}: already started")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"# {self.name}: {' '.join(self.cmd)}\n".encode())
            log.flush()
            self.started_at = time.monotonic()
            self.proc = subprocess.Popen(
                self.cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                env=self.env, cwd=self.cwd, start_new_session=True, close_fds=True)
        ManagedProcess._live.add(self)
        return self

    def wait_ready(self, probes: Sequence[Probe], timeout: float) -> None:
        """Wait until each probe passes; StartupError (with log tail) on exit or timeout."""
        assert self.proc is not None and self.started_at is not None
        deadline = self.started_at + timeout
        for probe in probes:
            while not probe():
                if self.proc.poll() is not None:
                    self._fail(f"exited with status {self.proc.returncode} before it was ready")
                if time.monotonic() >= deadline:
                    self.stop()
                    self._fail(f"not ready after {timeout:.1f}s")
                time.sleep(0.05)
        if self.proc.poll() is not None:
            self._fail(f"exited with status {self.proc.returncode} right after start")
        self.ready_after = time.monotonic() - self.started_at

    def _fail(self, why: str) -> None:
        tail = self.log_tail()
        in_use = any(m in tail.lower() for m in _ADDR_IN_USE_MARKERS)
        self.stop()
        raise StartupError(
            f"{self.name} (pid {self.pid}) {why}\n  command: {' '.join(self.cmd)}\n"
            f"  log: {self.log_path}\n--- last lines of the log ---\n{tail}",
            addr_in_use=in_use)

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM, then SIGKILL after `grace` seconds; returns the exit status."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._signal(signal.SIGTERM)
            if self._paused:  # a stopped process only acts on SIGTERM once continued
                self._signal(signal.SIGCONT)
                self._paused = False
            try:
                self.proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self._signal(signal.SIGKILL)
                self.proc.wait(timeout=10)
        ManagedProcess._live.discard(self)
        return self.proc.returncode

    def kill9(self) -> int | None:
        """SIGKILL now (a crash, for failover tests) and reap it."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self._signal(signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._paused = False
        ManagedProcess._live.discard(self)
        return self.proc.returncode

    def pause(self) -> None:
        """SIGSTOP: the process keeps its sockets but answers nothing (a hung backend)."""
        self._signal(signal.SIGSTOP)
        self._paused = True

    def resume(self) -> None:
        """SIGCONT after pause()."""
        self._signal(signal.SIGCONT)
        self._paused = False

    def _signal(self, sig: int) -> None:
        assert self.proc is not None
        if self.proc.poll() is None:
            try:
                os.kill(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    # -- state -----------------------------------------------------------------------------
    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc else None

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def paused(self) -> bool:
        return self._paused

    def log_tail(self, lines: int = 40) -> str:
        try:
            data = self.log_path.read_bytes()[-64 * 1024:]
        except OSError:
            return "(no log)"
        return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])

    def proc_status(self, field: str) -> int | None:
        """A kB field (VmRSS, VmHWM, ...) of /proc/PID/status, in KiB; None if gone."""
        if not self.alive:
            return None
        try:
            for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
                if line.startswith(field + ":"):
                    return int(line.split()[1])
        except (OSError, ValueError, IndexError):
            return None
        return None

    def rss_kib(self) -> int | None:
        return self.proc_status("VmRSS")

    def rss_peak_kib(self) -> int | None:
        return self.proc_status("VmHWM")

    def __repr__(self) -> str:
        return f"<ManagedProcess {self.name} pid={self.pid} alive={self.alive}>"


# A kernel TCP state (include/net/tcp_states.h) as /proc/net/tcp prints it.
TCP_CLOSE_WAIT = 0x08


class _TcpSocket(NamedTuple):
    local_port: int
    remote_port: int
    state: int
    send_queue: int  # bytes not yet acknowledged by the peer
    recv_queue: int  # bytes not yet read by the process holding the socket
    inode: str


def _tcp_sockets() -> Iterator[_TcpSocket]:
    """Every TCP socket of this machine, as /proc/net/tcp and /proc/net/tcp6 list them."""
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            f = line.split()
            tx, rx = f[4].split(":")
            yield _TcpSocket(int(f[1].rsplit(":", 1)[1], 16), int(f[2].rsplit(":", 1)[1], 16),
                             int(f[3], 16), int(tx, 16), int(rx, 16), f[9])


def tcp_states_to(pid: int, remote_port: int) -> list[int]:
    """The TCP states of the sockets process `pid` holds to 127.0.0.1:`remote_port` (from /proc).
    CLOSE_WAIT means the peer closed the connection and the process has not closed it yet."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return [s.state for s in _tcp_sockets() if s.remote_port == remote_port and s.inode in inodes]


def tcp_queue_bytes(local_port: int, remote_port: int) -> tuple[int, int] | None:
    """(bytes in the send queue, bytes in the receive queue) of the TCP socket on this machine
    from 127.0.0.1:`local_port` to 127.0.0.1:`remote_port` (from /proc/net/tcp), or None when
    there is no such socket. Send queue: not yet acknowledged by the peer; receive queue: not
    yet read by the process holding the socket."""
    for s in _tcp_sockets():
        if s.local_port == local_port and s.remote_port == remote_port:
            return s.send_queue, s.recv_queue
    return None


def start_with_retry(start: Callable[[], "object"], attempts: int = 3):
    """Call `start` (which picks fresh ports each time) until it does not fail on a port clash."""
    for attempt in range(1, attempts + 1):
        try:
            return start()
        except StartupError as e:
            if not e.addr_in_use or attempt == attempts:
                raise


@atexit.register
def _stop_leftovers() -> None:
    for p in list(ManagedProcess._live):
        try:
            p.stop(grace=2.0)
        except Exception:  # noqa: BLE001 - best effort at interpreter exit
            pass
