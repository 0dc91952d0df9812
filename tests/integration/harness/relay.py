"""A counting, optionally recording TCP pass-through (not a fake server: every byte goes to the
real target unchanged). Put it between s3ha and a backend to prove what s3ha sent upstream (or
that it sent nothing), or between a client and s3ha to see the client's exact request.

`TcpRelay` is also the base of `fault_proxy.FaultProxy`: it owns the listener (which can be
closed and re-opened on the same port: `_set_listening`), the accept loop, one handler thread
per connection (`_serve`, overridable), the byte pump and a clean `stop()`.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field

from .ports import free_port


@dataclass
class RelayConnection:
    upstream_bytes: int = 0       # client -> target
    downstream_bytes: int = 0     # target -> client
    recorded: bytearray = field(default_factory=bytearray)  # client -> target, up to the cap


def _listen_on(port: int) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        s.listen(128)
    except OSError:
        s.close()
        raise
    s.settimeout(0.05)
    return s


def reset_socket(s: socket.socket) -> None:
    """Close `s` with an RST (SO_LINGER 0) instead of a FIN."""
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    except OSError:
        pass
    try:
        s.close()
    except OSError:
        pass


class TcpRelay:
    """Listens on 127.0.0.1:<free port> and forwards every connection to target_host:target_port.

    `record_limit` bytes of each connection's client->target stream are kept (0 = none).
    """

    def __init__(self, target_host: str, target_port: int, *, record_limit: int = 16 << 20,
                 downstream_piece: int = 0):
        self.target = (target_host, target_port)
        self.record_limit = record_limit
        # > 0: target->client bytes are sent in pieces of this size, 5 ms apart (a backend whose
        # response header arrives in several reads); 0: as received.
        self.downstream_piece = downstream_piece
        self.connections: list[RelayConnection] = []
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self._stopped = threading.Event()
        for attempt in range(5):
            try:
                self.port = free_port()
                self._listener: socket.socket | None = _listen_on(self.port)
                break
            except OSError:
                if attempt == 4:
                    raise
        # The accept thread alone opens and closes the listener (closing a socket another
        # thread is blocked on is a race); _set_listening asks it and waits.
        self._want_listening = True
        self._listening_changed = threading.Condition(self._lock)
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

    # -- listener ------------------------------------------------------------------------------
    def _set_listening(self, on: bool, timeout: float = 5.0) -> None:
        """Stop listening (new connections are refused: RST) or listen again on the same port.
        Returns once the change is in effect. Existing connections are not touched."""
        with self._lock:
            self._want_listening = on
            deadline = time.monotonic() + timeout
            while (self._listener is not None) != on:
                left = deadline - time.monotonic()
                if left <= 0 or self._stopped.is_set():
                    raise TimeoutError(f"relay {self.port}: listening={on} not reached")
                self._listening_changed.wait(left)

    def _accept_loop(self) -> None:
        while not self._stopped.is_set():
            with self._lock:
                want, listener = self._want_listening, self._listener
            if listener is not None and not want:
                listener.close()
                listener = None
            elif listener is None and want:
                try:
                    listener = _listen_on(self.port)
                except OSError:
                    time.sleep(0.05)  # e.g. the old socket not gone yet; retried
                    continue
            with self._lock:
                changed = listener is not self._listener
                self._listener = listener
                if changed:
                    self._listening_changed.notify_all()
            if listener is None:
                time.sleep(0.02)
                continue
            try:
                client, _ = listener.accept()
            except socket.timeout:
                continue
            except OSError:
                if self._stopped.is_set():
                    return
                continue
            client.settimeout(None)
            with self._lock:
                if self._stopped.is_set():
                    client.close()
                    return
                self._socks.append(client)
            t = threading.Thread(target=self._serve, args=(client,), daemon=True,
                                 name=f"relay-{self.port}-conn")
            with self._lock:
                self._threads.append(t)
            t.start()
        with self._lock:
            if self._listener is not None:
                self._listener.close()
                self._listener = None
            self._listening_changed.notify_all()

    # -- pumping -------------------------------------------------------------------------------
    def _connect_target(self) -> socket.socket | None:
        """A new connection to the target, tracked for stop(); None when it cannot be made."""
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            return None
        upstream.settimeout(None)
        with self._lock:
            self._socks.append(upstream)
        return upstream

    def _start_thread(self, fn, *args) -> None:
        t = threading.Thread(target=fn, args=args, daemon=True)
        with self._lock:
            self._threads.append(t)
        t.start()

    def _serve(self, client: socket.socket) -> None:
        """One accepted connection: a plain pass-through in both directions."""
        upstream = self._connect_target()
        if upstream is None:
            client.close()
            return
        conn = RelayConnection()
        with self._lock:
            self.connections.append(conn)
        self._start_thread(self._pump, upstream, client, conn, False)
        self._pump(client, upstream, conn, True)

    def _count(self, conn: RelayConnection, data: bytes, up: bool) -> None:
        with self._lock:
            if up:
                conn.upstream_bytes += len(data)
                room = self.record_limit - len(conn.recorded)
                if room > 0:
                    conn.recorded += data[:room]
            else:
                conn.downstream_bytes += len(data)

    def _pump(self, src: socket.socket, dst: socket.socket, conn: RelayConnection, up: bool) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self._count(conn, data, up)
                piece = 0 if up else self.downstream_piece
                if piece <= 0:
                    dst.sendall(data)
                    continue
                dst.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for i in range(0, len(data), piece):
                    dst.sendall(data[i:i + piece])
                    time.sleep(0.005)
        except OSError:
            pass
        finally:
            try:
                dst.shutdown(socket.SHUT_WR)  # pass a half-close on
            except OSError:
                pass

    def stop(self) -> None:
        self._stopped.set()
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
        with self._lock:
            threads = list(self._threads)
        for t in threads:
            t.join(timeout=2)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
