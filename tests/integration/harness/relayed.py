"""s3ha in front of one real backend with a recording TcpRelay between them, and a bucket on the
backend: what the negative tests (test_proxy_auth, test_trust_boundary) use to prove what s3ha
sent upstream, or that it sent nothing.
"""

from __future__ import annotations

import time
from pathlib import Path
from urllib.parse import unquote

from . import rawhttp
from .relay import TcpRelay
from .s3ha import S3haProcess
from .s3util import empty_and_delete

# Lenient checks (as the shared `proxy` fixture's): a slow check on a loaded machine must not mark
# the only backend down and turn a positive control into a 503.
LENIENT_HEALTH_CHECK = {"interval": "2s", "timeout": "1500ms", "fall": 3}


class RelayedS3ha:
    """Starts the relay, creates `bucket` on the backend and starts s3ha (`aws_chunked: decode`)
    with the relay as its backend endpoint. `stop()` undoes all three."""

    def __init__(self, backend, workdir: Path, bucket: str):
        self.backend, self.bucket = backend, bucket
        self.relay = TcpRelay(backend.host, backend.port)
        backend.create_bucket(bucket)
        self.proxy = S3haProcess([{"backend": backend, "endpoint": self.relay.endpoint,
                                   "aws_chunked": "decode", "health_check": LENIENT_HEALTH_CHECK}],
                                 workdir, wait_admin=False)

    def upstream(self, needle: str, settle: float = 0.3) -> list[rawhttp.Message]:
        """Upstream requests whose decoded target contains `needle` (health checks pass through
        the relay too, so filter by something of the test's own). Waits `settle` first for
        anything in flight to be recorded."""
        time.sleep(settle)
        return [m for rec in self.relay.recorded() for m in rawhttp.parse_requests(rec)
                if needle in unquote(m.target)]

    def stop(self) -> None:
        self.proxy.stop()
        self.relay.stop()
        empty_and_delete(self.backend, self.bucket)
