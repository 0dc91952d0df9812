"""A counting, optionally recording TCP pass-through (not a fake server: every byte goes to the
real target unchanged). Put it between s3ha and a backend to prove what s3ha sent upstream (or
that it sent nothing), or between a client and s3ha to see the client's exact request.
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field

from .ports import free_port


@dataclass
class RelayConnection:
    upstream_bytes: int = 0       # client -> target
    downstream_bytes: int = 0     # target -> client
    recorded: bytearray = field(default_factory=bytearray)  # client -> target, up to the cap


class TcpRelay:
    """Listens on 127.0.0.1:<free port> and forwards every connection to target_host:target_port.

    `record_limit` bytes of each connection's client->target stream are kept (0 = none).
    """

    def __init__(self, target_host: str, target_port: int, *, record_limit: int = 16 << 20):
        self.target = (target_host, target_port)
        self.record_limit = record_limit
        self.connections: list[RelayConnection] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self._stopped = threading.Event()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        for attempt in range(5):
            try:
                self.port = free_port()
                self._listener.bind(("127.0.0.1", self.port))
                break
            except OSError:
                if attempt == 4:
                    raise
        self._listener.listen(64)
        self._listener.settimeout(0.2)
        self._accept_thread = threading.Thread(target=self._accept_loop, daemon=True,
                                               name=f"relay-{self.port}")
        self._accept_thread.start()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # -- counters ------------------------------------------------------------------------------
    @property
    def connection_count(self) -> int:
        """Connections accepted since start (reset() does not change it)."""
        with self._lock:
            return len(self.connections)

    @property
    def upstream_bytes(self) -> int:
        with self._lock:
            return sum(c.upstream_bytes for c in self.connections)

    def recorded(self) -> list[bytes]:
        with self._lock:
            return [bytes(c.recorded) for c in self.connections]

    def reset(self) -> None:
        """Forget what was recorded and counted so far (connections stay, keep-alive ones too)."""
        with self._lock:
            for c in self.connections:
                c.recorded.clear()
                c.upstream_bytes = c.downstream_bytes = 0

    # -- pumping -------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            conn = RelayConnection()
            with self._lock:
                self.connections.append(conn)
                self._socks += [client, upstream]
            for src, dst, up in ((client, upstream, True), (upstream, client, False)):
                t = threading.Thread(target=self._pump, args=(src, dst, conn, up), daemon=True)
                t.start()
                self._threads.append(t)

    def _pump(self, src: socket.socket, dst: socket.socket, conn: RelayConnection, up: bool) -> None:
        src.settimeout(None)
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                with self._lock:
                    if up:
                        conn.upstream_bytes += len(data)
                        room = self.record_limit - len(conn.recorded)
                        if room > 0:
                            conn.recorded += data[:room]
                    else:
                        conn.downstream_bytes += len(data)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)  # pass a half-close on
            except OSError:
                pass

    def stop(self) -> None:
        self._stopped.set()
        try:
            self._listener.close()
        except OSError:
            pass
        with self._lock:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)  # wakes a pump blocked in recv (close alone does not)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        self._accept_thread.join(timeout=2)
        for t in self._threads:
            t.join(timeout=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
