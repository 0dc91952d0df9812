"""Free TCP ports on 127.0.0.1, picked at run time."""

from __future__ import annotations

import socket

_handed_out: set[int] = set()


def free_port(host: str = "127.0.0.1") -> int:
    """A port the kernel reports free right now (bind to port 0).

    Another process may still take it before our server binds: callers retry start-up on an
    "address in use" failure. Ports already handed out by this process are not handed out again.
    """
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind((host, 0))
            port = s.getsockname()[1]
        if port not in _handed_out:
            _handed_out.add(port)
            return port
    raise RuntimeError("could not find a free port")
