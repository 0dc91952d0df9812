"""HTTP/1.1 over a raw socket, for tests that must control every byte (aws-chunked bodies,
truncated bodies, pipelining, Expect: 100-continue, malformed requests) and for parsing what a
TcpRelay recorded. Every read has a timeout.
"""

from __future__ import annotations

import re
import socket
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from typing import Mapping


@dataclass
class Message:
    """A parsed request or response. `headers` keeps order and case; `h` is lower-case -> last."""
    start_line: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    @property
    def h(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.headers}

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def status(self) -> int:
        return int(self.start_line.split()[1])

    @property
    def method(self) -> str:
        return self.start_line.split()[0]

    @property
    def target(self) -> str:
        return self.start_line.split()[1]

    @property
    def s3_code(self) -> str | None:
        return s3_error_code(self.body)


def s3_error_code(body: bytes) -> str | None:
    """The <Code> of an S3 XML error body, or None when it is not one."""
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        return None
    if root.tag.split("}")[-1] != "Error":
        return None
    for child in root:
        if child.tag.split("}")[-1] == "Code":
            return child.text
    return None


class Closed(ConnectionError):
    """The peer closed the connection before a complete message."""


class Reader:
    """Buffered reads from a socket, each bounded by the socket's timeout."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buf = bytearray()

    def _fill(self) -> None:
        data = self.sock.recv(65536)
        if not data:
            raise Closed("connection closed by peer")
        self.buf += data

    def until(self, sep: bytes, limit: int = 1 << 20) -> bytes:
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out = bytes(self.buf[:i])
                del self.buf[:i + len(sep)]
                return out
            if len(self.buf) > limit:
                raise ValueError("line too long")
            self._fill()

    def exactly(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def rest(self) -> bytes:
        try:
            while True:
                self._fill()
        except Closed:
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out


def _parse_head(head: bytes) -> Message:
    lines = head.decode("latin-1").split("\r\n")
    msg = Message(lines[0])
    for ln in lines[1:]:
        if ln:
            k, _, v = ln.partition(":")
            msg.headers.append((k.strip(), v.strip()))
    return msg


def _read_chunked(r: Reader) -> bytes:
    out = bytearray()
    while True:
        size = int(r.until(b"\r\n").split(b";")[0], 16)
        if size == 0:
            while r.until(b"\r\n"):  # trailer fields
                pass
            return bytes(out)
        out += r.exactly(size)
        r.exactly(2)


def read_response(r: Reader, method: str = "GET") -> Message:
    msg = _parse_head(r.until(b"\r\n\r\n"))
    st = msg.status
    if method == "HEAD" or st in (204, 304) or 100 <= st < 200:
        return msg
    h = msg.h
    if "chunked" in h.get("transfer-encoding", "").lower():
        msg.body = _read_chunked(r)
    elif "content-length" in h:
        msg.body = r.exactly(int(h["content-length"]))
    else:
        msg.body = r.rest()
    return msg


def read_request(r: Reader) -> Message:
    """One request of a recorded stream (Content-Length or chunked body; else no body)."""
    msg = _parse_head(r.until(b"\r\n\r\n"))
    h = msg.h
    if "chunked" in h.get("transfer-encoding", "").lower():
        msg.body = _read_chunked(r)
    elif "content-length" in h:
        msg.body = r.exactly(int(h["content-length"]))
    return msg


class _BytesSock:
    def __init__(self, data: bytes):
        self.data = data

    def recv(self, n: int) -> bytes:
        out, self.data = self.data[:n], self.data[n:]
        return out


def parse_requests(raw: bytes) -> list[Message]:
    """All complete requests in a recorded client->server byte stream (a partial tail is dropped)."""
    r = Reader(_BytesSock(raw))  # type: ignore[arg-type]
    out = []
    while True:
        try:
            out.append(read_request(r))
        except (Closed, ValueError):
            return out


def request_bytes(method: str, target: str, headers: Mapping[str, str] | list[tuple[str, str]],
                  body: bytes = b"") -> bytes:
    items = headers.items() if isinstance(headers, Mapping) else headers
    head = f"{method} {target} HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in items) + "\r\n"
    return head.encode("utf-8") + body


class Conn:
    """One client connection to 127.0.0.1:port."""

    def __init__(self, port: int, timeout: float = 10.0, host: str = "127.0.0.1"):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.reader = Reader(self.sock)

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def response(self, method: str = "GET") -> Message:
        return read_response(self.reader, method)

    def half_close(self) -> None:
        self.sock.shutdown(socket.SHUT_WR)

    def closed_by_peer(self, timeout: float = 5.0) -> bool:
        """True when the peer closes (EOF or reset) within `timeout` without sending anything
        more than what is already buffered."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b""
        except ConnectionResetError:
            return True
        except socket.timeout:
            return False

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def roundtrip(port: int, method: str, target: str, headers, body: bytes = b"",
              timeout: float = 15.0) -> Message:
    with Conn(port, timeout) as c:
        c.send(request_bytes(method, target, headers, body))
        return c.response(method)


def port_of(endpoint: str) -> int:
    m = re.search(r":(\d+)/?$", endpoint)
    assert m, endpoint
    return int(m.group(1))

