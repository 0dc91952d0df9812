"""Reading s3ha's text log: access-log lines (which backend answered each request) and the pool's
backend state transitions ("backend b0 is down (2 consecutive failures; ...)"), with their
timestamps (wall clock, millisecond precision, the same clock as time.time()).

Formats (src/server/server.cpp, src/core/log_scope.cpp, src/proxy/forwarder.cpp,
src/upstream/pool.cpp), `logging.format: text`:
  2026-11-22T15:16:09.123+00:00 info [access] conn=7 req=ab12 GET /bkt/key 200 in=0 out=5 ms=3 backend=b0
  2026-11-22T15:16:09.456+00:00 warning [s3ha] conn=- req=- backend b0 is down (2 consecutive failures; health check: upstream_timeout)
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

_STAMP = r"(?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:?\d\d)"
_ACCESS = re.compile(_STAMP + r" \w+ \[access\] conn=\S+ req=(?P<req>\S+) (?P<method>\S+) "
                     r"(?P<resource>\S+) (?P<status>\d+) in=(?P<bin>\d+) out=(?P<bout>\d+) "
                     r"ms=(?P<ms>\d+) backend=(?P<backend>\S*)")
_TRANSITION = re.compile(_STAMP + r" \w+ \[s3ha\] .*backend (?P<name>\S+) is (?P<state>up|down) "
                         r"\((?P<count>\d+) consecutive (?:successes|failures); (?P<why>.*)\)")


def _wall(ts: str) -> float:
    return datetime.strptime(ts, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


@dataclass(frozen=True)
class AccessLine:
    end: float        # wall time the line was written (the response was done)
    method: str
    resource: str
    status: int
    ms: int
    backend: str      # the backend that answered ("" or "-" when none)
    req: str = ""     # s3ha's request id (the `x-s3ha-request-id` response header)

    @property
    def start(self) -> float:
        """An estimate: s3ha measures `ms` before it writes the line, so a worker preempted in
        between makes this later than the real start (by the time it waited for a CPU). To
        know which backend answered a request the client started at a known time, match the
        client's `x-s3ha-request-id` with `req` instead."""
        return self.end - self.ms / 1000.0


@dataclass(frozen=True)
class Transition:
    time: float       # wall time
    backend: str
    state: str        # up | down
    count: int        # consecutive successes (up) / failures (down) when it happened
    why: str


def wait_still(log: Path, quiet: float = 0.3, timeout: float = 5.0) -> None:
    """Returns once the log has not grown for `quiet` seconds (at most `timeout`): a request's
    access line is written just after its response went out, so the client may be faster."""
    deadline = time.monotonic() + timeout
    size, still_since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now_size = log.stat().st_size
        if now_size != size:
            size, still_since = now_size, time.monotonic()
        elif time.monotonic() - still_since >= quiet:
            return
        time.sleep(0.05)


def access_lines(log: str | Path, resource_prefix: str = "") -> list[AccessLine]:
    """The access lines of a log text, or of a log file once it is still (wait_still)."""
    if isinstance(log, Path):
        wait_still(log)
    text = log.read_text(errors="replace") if isinstance(log, Path) else log
    out = []
    for m in _ACCESS.finditer(text):
        if m["resource"].startswith(resource_prefix):
            out.append(AccessLine(_wall(m["ts"]), m["method"], m["resource"], int(m["status"]),
                                  int(m["ms"]), m["backend"], m["req"]))
    return out


def transitions(log: str | Path, backend: str | None = None) -> list[Transition]:
    text = Path(log).read_text(errors="replace") if isinstance(log, Path) else log
    return [Transition(_wall(m["ts"]), m["name"], m["state"], int(m["count"]), m["why"])
            for m in _TRANSITION.finditer(text) if backend is None or m["name"] == backend]


def wait_transition(log: Path, backend: str, state: str, after: float, timeout: float) -> Transition:
    """The first transition of `backend` to `state` logged at or after wall time `after`
    (minus the log's 1 ms resolution); TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        for t in transitions(log, backend):
            if t.state == state and t.time >= after - 0.002:
                return t
        if time.monotonic() >= deadline:
            raise TimeoutError(f"no 'backend {backend} is {state}' logged within {timeout:.1f}s; "
                               f"transitions: {transitions(log)}")
        time.sleep(0.02)


def switches(lines: list[AccessLine]) -> int:
    """How often the answering backend changed along the requests ordered by start time."""
    seq = [a.backend for a in sorted(lines, key=lambda a: a.start)]
    return sum(1 for a, b in zip(seq, seq[1:]) if a != b)
