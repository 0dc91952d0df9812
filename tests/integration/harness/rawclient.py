"""Requests to s3ha signed by our own SigV4 code and sent over a raw socket.

`target` helpers take a decoded S3 path ("/bucket/key with space") and produce the encoded
request-target; signatures are computed by harness.sigv4 for the exact bytes we send.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Mapping, Sequence

from . import aws_chunked as ac
from . import rawhttp
from .rawhttp import Message
from .sigv4 import EMPTY_SHA256, Signed, canonical_query, sha256_hex, sign_headers, uri_encode


def host_of(endpoint: str) -> str:
    return endpoint.split("://", 1)[1].rstrip("/")


def encoded_target(path: str, query: Sequence[tuple[str, str]] = ()) -> str:
    t = uri_encode(path, True)
    return t + ("?" + canonical_query(query) if query else "")


def sign_for(proxy, method: str, path: str, *, body: bytes = b"", payload_hash: str | None = None,
             headers: Mapping[str, str] | None = None, query: Sequence[tuple[str, str]] = (),
             when: _dt.datetime | None = None, access_key: str | None = None,
             secret_key: str | None = None, host: str | None = None) -> Signed:
    """Signed headers for a request to `proxy` (s3ha's client credentials unless overridden).
    Content-Length is added (and signed) when there is a body."""
    h = dict(headers or {})
    if body and not any(k.lower() == "content-length" for k in h):
        h["content-length"] = str(len(body))
    return sign_headers(method, path, host=host or host_of(proxy.endpoint),
                        access_key=access_key or proxy.access_key,
                        secret_key=secret_key or proxy.secret_key, region=proxy.region,
                        query=query, headers=h,
                        payload_hash=payload_hash or (sha256_hex(body) if body else EMPTY_SHA256),
                        when=when)


def send(proxy, method: str, path: str, *, body: bytes = b"", query: Sequence[tuple[str, str]] = (),
         timeout: float = 15.0, extra_unsigned: Mapping[str, str] | None = None, **kw) -> Message:
    """Sign with sign_for(**kw) and send on a new connection; the response."""
    s = sign_for(proxy, method, path, body=body, query=query, **kw)
    headers = {**s.headers, **(extra_unsigned or {})}
    return rawhttp.roundtrip(rawhttp.port_of(proxy.endpoint), method, encoded_target(path, query),
                             headers, body, timeout=timeout)


@dataclass
class StreamingUpload:
    """A complete signed aws-chunked PUT: headers (seed signature included) and body bytes."""
    target: str
    headers: dict[str, str]
    body: bytes
    encoded: ac.Encoded
    signed: Signed

    def request(self) -> bytes:
        return rawhttp.request_bytes("PUT", self.target, self.headers, self.body)


def streaming_put(proxy, path: str, data: bytes, chunk_size: int = 64 * 1024, *,
                  trailer_algorithm: str | None = None, trailer_value: str | None = None,
                  headers: Mapping[str, str] | None = None) -> StreamingUpload:
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD, or ...-PAYLOAD-TRAILER with an x-amz-checksum-<alg>
    trailer (its value computed from `data` unless `trailer_value` is given)."""
    chunks = ac.split(data, chunk_size)
    mode = ac.STREAMING_SIGNED_TRAILER if trailer_algorithm else ac.STREAMING_SIGNED
    trailers: list[tuple[str, str]] = []
    if trailer_algorithm:
        trailers = [(f"x-amz-checksum-{trailer_algorithm}",
                     trailer_value or ac.checksum_b64(trailer_algorithm, data))]
    # The body length depends only on sizes, not on signatures: encode once with a dummy seed.
    probe = ac.encode_signed(chunks, key=b"k", date="d", scope="s", seed="0" * 64, trailers=trailers)
    h = {"content-encoding": "aws-chunked", "x-amz-decoded-content-length": str(len(data)),
         "content-length": str(len(probe.body)), **(headers or {})}
    if trailers:
        h["x-amz-trailer"] = trailers[0][0]
    s = sign_for(proxy, "PUT", path, payload_hash=mode, headers=h)
    enc = ac.encode_signed(chunks, key=s.key, date=s.amz_date, scope=s.scope, seed=s.signature,
                           trailers=trailers)
    assert len(enc.body) == len(probe.body)
    return StreamingUpload(encoded_target(path), s.headers, enc.body, enc, s)
