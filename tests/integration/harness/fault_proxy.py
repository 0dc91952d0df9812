"""A fault-injecting TCP proxy in front of a REAL backend, for faults a real server cannot produce
on demand: a backend that accepts connections but never answers (`blackhole`), resets them
(`reset`), stops listening (`refuse`), answers slowly (`delay`), or whose health endpoint says
503 while S3 still works (`health override`). Everything else goes to the real backend byte for
byte; only the health override answers by itself (s3rver has no health endpoint to make fail).

It is HTTP-aware on the client->backend direction only: it splits that stream into requests
(Content-Length and chunked bodies) so it can count them, delay or swallow a request before it is
forwarded, and answer a health check. Responses are relayed as raw bytes.

Modes (`set_mode`), applied to every new request, on new and on kept-alive connections alike:
  pass       forward unchanged
  delay      forward after `delay` seconds (per request)
  blackhole  swallow the request and everything after it on that connection; never answer
             (the socket stays open until the peer closes it: a hung server)
  reset      close the connection with an RST (new connections are reset at accept)
  refuse     stop listening (connects get ECONNREFUSED); open connections are reset at once,
             as when the backend process dies
Health override (`set_health`): a request for `health_path` that is the FIRST request on its
connection (the health checker's one-request connections) is answered with `health_status` and
`Connection: close` instead of being forwarded; `health_status=None` forwards it (a real
answer). A list of statuses is used in turn, one per check (a flapping health endpoint). An
override takes precedence over `blackhole` and `delay` (a hung data path can still look healthy)
but not over `reset` and `refuse`.

Counters: `connection_count` (accepted), `requests` (one `RequestRecord` per request head seen,
with time, method, target and what was done with it), `data_requests(...)` (without health checks).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Sequence

from .relay import RelayConnection, TcpRelay, reset_socket

MODES = ("pass", "delay", "blackhole", "reset", "refuse")
_MAX_HEAD = 1 << 20


@dataclass(frozen=True)
class RequestRecord:
    time: float        # time.monotonic() when the request head arrived
    wall: float        # time.time() at the same moment (to compare with log timestamps)
    method: str
    target: str        # request target as sent (path and query)
    action: str        # forwarded | delayed | health | blackholed | reset

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]


class _RequestSplitter:
    """Splits an HTTP/1.1 request byte stream into ("head", bytes, (method, target)) and
    ("data", bytes, None) items. After a head it cannot parse it yields ("data", ...) only."""

    def __init__(self):
        self._buf = bytearray()
        self._state = "head"      # head | body | chunk_size | chunk_data | trailer | raw
        self._left = 0            # body / chunk bytes still expected

    def feed(self, data: bytes):
        out = []
        self._buf += data
        while self._buf:
            if self._state == "raw":
                out.append(("data", bytes(self._buf), None))
                self._buf.clear()
            elif self._state == "head":
                end = self._buf.find(b"\r\n\r\n")
                if end < 0:
                    if len(self._buf) > _MAX_HEAD:
                        self._state = "raw"
                        continue
                    break
                head = bytes(self._buf[:end + 4])
                del self._buf[:end + 4]
                out.append(("head", head, self._parse_head(head)))
            elif self._state == "body":
                n = min(self._left, len(self._buf))
                out.append(("data", bytes(self._buf[:n]), None))
                del self._buf[:n]
                self._left -= n
                if self._left == 0:
                    self._state = "head"
            elif self._state in ("chunk_size", "trailer"):
                end = self._buf.find(b"\r\n")
                if end < 0:
                    if len(self._buf) > _MAX_HEAD:
                        self._state = "raw"
                        continue
                    break
                line = bytes(self._buf[:end + 2])
                del self._buf[:end + 2]
                out.append(("data", line, None))
                if self._state == "trailer":
                    if line == b"\r\n":
                        self._state = "head"
                    continue
                try:
                    size = int(line.split(b";", 1)[0].strip(), 16)
                except ValueError:
                    self._state = "raw"
                    continue
                if size == 0:
                    self._state = "trailer"
                else:
                    self._state, self._left = "chunk_data", size + 2  # data + CRLF
            elif self._state == "chunk_data":
                n = min(self._left, len(self._buf))
                out.append(("data", bytes(self._buf[:n]), None))
                del self._buf[:n]
                self._left -= n
                if self._left == 0:
                    self._state = "chunk_size"
        return out

    def _parse_head(self, head: bytes):
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        method, target = (parts[0], parts[1]) if len(parts) >= 3 else ("?", "?")
        length, chunked = 0, False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip()
            if name == "content-length":
                try:
                    length = int(value)
                except ValueError:
                    self._state = "raw"
                    return method, target
            elif name == "transfer-encoding" and "chunked" in value.lower():
                chunked = True
        if chunked:
            self._state = "chunk_size"
        elif length > 0:
            self._state, self._left = "body", length
        return method, target


class FaultProxy(TcpRelay):
    """A TcpRelay that injects faults (module docstring). Thread-safe controls; `stop()` ends it."""

    def __init__(self, target_host: str, target_port: int, *, mode: str = "pass",
                 delay: float = 0.0, health_path: str | None = None,
                 health_status: int | None = None, record_limit: int = 0):
        self._mode = "pass"
        self._delay = delay
        self._health_path = health_path
        self._health_cycle: list[int | None] = [health_status]
        self._health_seen = 0  # health checks seen since the last set_health
        self.requests: list[RequestRecord] = []
        self._live: dict[int, _Link] = {}  # connections still open, by id
        super().__init__(target_host, target_port, record_limit=record_limit)
        self.set_mode(mode, delay=delay)

    @classmethod
    def for_backend(cls, backend, **kw) -> "FaultProxy":
        return cls(backend.host, backend.port, **kw)

    # -- controls ------------------------------------------------------------------------------
    @property
    def mode(self) -> str:
        with self._lock:
            return self._mode

    def set_mode(self, mode: str, *, delay: float | None = None) -> None:
        """Switch mode (see the module docstring). Returns once it is in effect: after
        `refuse`, connects are refused and the open connections are gone."""
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {MODES}")
        with self._lock:
            self._mode = mode
            if delay is not None:
                self._delay = delay
        self._set_listening(mode != "refuse")
        if mode == "refuse":
            self._kill_live()

    def set_health(self, status: int | None | Sequence[int | None],
                   path: str | None = None) -> None:
        """Answer health checks of `path` (default: the current one) with `status`; None: forward
        them to the backend. A sequence is a cycle: check n gets status[n % len] (a flapping
        health endpoint, e.g. `[None, 503]` = real answer, 503, real answer, ...)."""
        cycle = list(status) if isinstance(status, (list, tuple)) else [status]
        if not cycle:
            raise ValueError("empty health status cycle")
        with self._lock:
            if path is not None:
                self._health_path = path
            self._health_cycle = cycle
            self._health_seen = 0

    # -- counters ------------------------------------------------------------------------------
    def data_requests(self, since: float | None = None) -> list[RequestRecord]:
        """Requests other than answered health checks, optionally only those at or after the
        monotonic time `since`."""
        with self._lock:
            reqs = list(self.requests)
        return [r for r in reqs if r.action != "health" and (since is None or r.time >= since)]

    def health_requests(self) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.requests if r.action == "health"]

    def forwarded_count(self, since: float | None = None) -> int:
        return sum(1 for r in self.data_requests(since) if r.action in ("forwarded", "delayed"))

    # -- per connection ------------------------------------------------------------------------
    def _record(self, method: str, target: str, action: str) -> None:
        with self._lock:
            self.requests.append(RequestRecord(time.monotonic(), time.time(), method, target,
                                               action))

    def _serve(self, client: socket.socket) -> None:
        link = _Link(client)
        with self._lock:
            mode = self._mode
            if mode not in ("reset", "refuse"):
                self._live[id(link)] = link
        if mode in ("reset", "refuse"):
            reset_socket(client)
            return
        conn = RelayConnection()
        with self._lock:
            self.connections.append(conn)
        try:
            self._serve_requests(link, conn)
        except OSError:
            pass
        finally:
            with self._lock:
                self._live.pop(id(link), None)
            if link.killed:
                link.kill_upstream()
            elif link.upstream is not None:
                try:
                    link.upstream.shutdown(socket.SHUT_WR)  # pass a half-close on
                except OSError:
                    pass
            link.done()

    def _serve_requests(self, link: "_Link", conn: RelayConnection) -> None:
        client = link.client
        splitter = _RequestSplitter()
        first = True
        while True:
            data = client.recv(65536)
            if not data or link.killed:
                return
            if link.swallowing:
                continue  # black-holed: read and drop, never answer
            for kind, payload, info in splitter.feed(data):
                if kind == "head":
                    method, target = info
                    is_health = (first and self._health_path is not None
                                 and target.split("?", 1)[0] == self._health_path)
                    first = False
                    with self._lock:
                        mode, delay = self._mode, self._delay
                        health = None
                        if is_health and mode not in ("reset", "refuse"):
                            health = self._health_cycle[self._health_seen % len(self._health_cycle)]
                            self._health_seen += 1
                    if mode in ("reset", "refuse"):
                        self._record(method, target, "reset")
                        link.killed = True
                        return
                    if health is not None:
                        self._record(method, target, "health")
                        self._answer(client, health, head_only=method == "HEAD")
                        return
                    if mode == "blackhole":
                        self._record(method, target, "blackholed")
                        link.swallowing = True
                        break
                    self._record(method, target, "delayed" if mode == "delay" else "forwarded")
                    if mode == "delay" and delay > 0:
                        time.sleep(delay)
                if link.upstream is None:
                    upstream = self._connect_target()
                    if upstream is None:
                        link.killed = True  # the real backend refused: pass it on as an RST
                        return
                    link.attach(upstream)
                    self._start_thread(self._pump_down, link, conn)
                self._count(conn, payload, True)
                link.upstream.sendall(payload)

    def _pump_down(self, link: "_Link", conn: RelayConnection) -> None:
        try:
            self._pump(link.upstream, link.client, conn, False)
        finally:
            link.done()

    @staticmethod
    def _answer(client: socket.socket, status: int, head_only: bool) -> None:
        text = f"fault_proxy health override: {status}\n".encode()
        head = (f"HTTP/1.1 {status} Fault Proxy\r\nContent-Type: text/plain\r\n"
                f"Content-Length: {len(text)}\r\nConnection: close\r\n\r\n").encode()
        try:
            client.sendall(head if head_only else head + text)
            client.shutdown(socket.SHUT_WR)
            client.settimeout(1.0)
            while client.recv(65536):  # let the peer close first (no RST on unread data)
                pass
        except OSError:
            pass

    def _kill_live(self) -> None:
        with self._lock:
            live = list(self._live.values())
        for link in live:
            link.killed = True
            try:
                link.client.shutdown(socket.SHUT_RD)  # wakes its reader, which resets it
            except OSError:
                pass


class _Link:
    """A client connection and its (lazily made) upstream one. Closed when the client reader
    and the upstream pump (if any) are both done; with an RST when `killed`."""

    def __init__(self, client: socket.socket):
        self.client = client
        self.upstream: socket.socket | None = None
        self.killed = False
        self.swallowing = False
        self._users = 1
        self._lock = threading.Lock()

    def attach(self, upstream: socket.socket) -> None:
        with self._lock:
            self.upstream = upstream
            self._users += 1

    def kill_upstream(self) -> None:
        if self.upstream is not None:
            try:
                self.upstream.shutdown(socket.SHUT_RDWR)  # ends the pump
            except OSError:
                pass

    def done(self) -> None:
        with self._lock:
            self._users -= 1
            last = self._users == 0
        if not last:
            return
        if self.upstream is not None:
            try:
                self.upstream.close()
            except OSError:
                pass
        if self.killed:
            reset_socket(self.client)
        else:
            try:
                self.client.close()
            except OSError:
                pass
