"""aws-chunked bodies: our encoder (signed, signed + trailer, unsigned + trailer) and decoder.

Implements "Signature Calculations for the Authorization Header: Transferring Payload in Multiple
Chunks" (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming.html) and "Signature
calculations for trailing headers" (https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-streaming-trailers.html):

    chunk            = hex(size) ";chunk-signature=" sig CRLF data CRLF
    chunk sig        = HMAC(key, "AWS4-HMAC-SHA256-PAYLOAD\n" date "\n" scope "\n" prev "\n"
                                 sha256("") "\n" sha256(data))        prev of chunk 1 = seed
    final chunk      = the same with size 0
    trailer (signed) = "name:value" CRLF "x-amz-trailer-signature:" sig CRLF CRLF
    trailer sig      = HMAC(key, "AWS4-HMAC-SHA256-TRAILER\n" date "\n" scope "\n" prev "\n"
                                 sha256("name:value\n"))              prev = final chunk's sig

The seed signature is the request's own SigV4 signature with x-amz-content-sha256 set to
STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER] (sigv4.sign_headers computes it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import zlib
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from .sigv4 import EMPTY_SHA256, sha256_hex

STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


# -- checksums the trailers carry ------------------------------------------------------------------
def _crc32c_table() -> list[int]:
    poly = 0x82F63B78  # Castagnoli, reflected
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table


_CRC32C = _crc32c_table()


def crc32c(data: bytes, crc: int = 0) -> int:
    crc ^= 0xFFFFFFFF
    t = _CRC32C
    for b in data:
        crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def checksum_b64(algorithm: str, data: bytes) -> str:
    """The base64 value of x-amz-checksum-<algorithm> for `data` (crc32, crc32c, sha1, sha256)."""
    if algorithm == "crc32":
        raw = (zlib.crc32(data) & 0xFFFFFFFF).to_bytes(4, "big")
    elif algorithm == "crc32c":
        raw = crc32c(data).to_bytes(4, "big")
    else:
        raw = hashlib.new(algorithm, data).digest()
    return base64.b64encode(raw).decode()


# -- signatures --------------------------------------------------------------------------------------
def chunk_signature(key: bytes, date: str, scope: str, prev: str, data: bytes) -> str:
    sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", date, scope, prev, EMPTY_SHA256, sha256_hex(data)])
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def trailer_signature(key: bytes, date: str, scope: str, prev: str,
                      trailers: Iterable[tuple[str, str]]) -> str:
    canonical = "".join(f"{n}:{v}\n" for n, v in trailers)
    sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", date, scope, prev, sha256_hex(canonical.encode())])
    return hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()


def split(data: bytes, chunk_size: int) -> list[bytes]:
    return [data[i:i + chunk_size] for i in range(0, len(data), chunk_size)]


# -- encoder ----------------------------------------------------------------------------------------
@dataclass
class Encoded:
    body: bytes
    chunk_signatures: list[str]             # data chunks then the final 0-size chunk
    trailer_signature: str | None = None
    # offset in `body` of each data chunk's first payload byte (to tamper with one byte)
    data_offsets: list[int] = field(default_factory=list)


def encode_signed(chunks: Iterable[bytes], *, key: bytes, date: str, scope: str, seed: str,
                  trailers: Iterable[tuple[str, str]] = ()) -> Encoded:
    """STREAMING-AWS4-HMAC-SHA256-PAYLOAD (no trailers) or ...-TRAILER (trailers given)."""
    out = bytearray()
    sigs: list[str] = []
    offsets: list[int] = []
    prev = seed
    for data in [*chunks, b""]:
        prev = chunk_signature(key, date, scope, prev, data)
        sigs.append(prev)
        out += f"{len(data):x};chunk-signature={prev}\r\n".encode()
        if data:
            offsets.append(len(out))
            out += data + b"\r\n"
    trailers = list(trailers)
    tsig = None
    if trailers:
        for n, v in trailers:
            out += f"{n}:{v}\r\n".encode()
        tsig = trailer_signature(key, date, scope, prev, trailers)
        out += f"x-amz-trailer-signature:{tsig}\r\n\r\n".encode()
    else:
        out += b"\r\n"
    return Encoded(bytes(out), sigs, tsig, offsets)


def encode_unsigned_trailer(chunks: Iterable[bytes], trailers: Iterable[tuple[str, str]]) -> bytes:
    """STREAMING-UNSIGNED-PAYLOAD-TRAILER framing (plain chunk sizes, trailers, no signatures)."""
    out = bytearray()
    for data in chunks:
        if data:
            out += f"{len(data):x}\r\n".encode() + data + b"\r\n"
    out += b"0\r\n"
    for n, v in trailers:
        out += f"{n}:{v}\r\n".encode()
    out += b"\r\n"
    return bytes(out)


# -- decoder ----------------------------------------------------------------------------------------
@dataclass
class Decoded:
    payload: bytes
    chunks: list[tuple[bytes, str | None]]  # (data, chunk-signature or None), final chunk included
    trailers: list[tuple[str, str]]
    trailer_signature: str | None


class FramingError(ValueError):
    pass


def decode(raw: bytes) -> Decoded:
    """Parse an aws-chunked body strictly; FramingError on anything malformed or left over."""
    pos = 0
    chunks: list[tuple[bytes, str | None]] = []
    payload = bytearray()

    def line() -> bytes:
        nonlocal pos
        end = raw.find(b"\r\n", pos)
        if end < 0:
            raise FramingError(f"no CRLF after offset {pos}")
        s = raw[pos:end]
        pos = end + 2
        return s

    while True:
        header = line().decode("ascii")
        size_hex, _, ext = header.partition(";")
        size = int(size_hex, 16)
        sig = None
        if ext:
            name, _, sig = ext.partition("=")
            if name != "chunk-signature" or len(sig) != 64:
                raise FramingError(f"bad chunk extension {ext!r}")
        data = raw[pos:pos + size]
        if len(data) != size:
            raise FramingError(f"chunk of {size} bytes truncated at {len(data)}")
        pos += size
        chunks.append((bytes(data), sig))
        if size == 0:
            break
        if raw[pos:pos + 2] != b"\r\n":
            raise FramingError(f"no CRLF after chunk data at {pos}")
        pos += 2
        payload += data
    trailers: list[tuple[str, str]] = []
    tsig = None
    while True:
        ln = line()
        if ln == b"":
            break
        name, _, value = ln.decode("ascii").partition(":")
        if name.lower() == "x-amz-trailer-signature":
            tsig = value.strip()
        else:
            trailers.append((name.strip(), value.strip()))
    if pos != len(raw):
        raise FramingError(f"{len(raw) - pos} bytes after the aws-chunked body")
    return Decoded(bytes(payload), chunks, trailers, tsig)


def verify_chain(decoded: Decoded, *, key: bytes, date: str, scope: str, seed: str) -> list[str]:
    """Problems (empty list = every chunk signature and the trailer signature is valid, chained
    from `seed`)."""
    problems = []
    prev = seed
    for i, (data, sig) in enumerate(decoded.chunks):
        want = chunk_signature(key, date, scope, prev, data)
        if sig != want:
            problems.append(f"chunk {i} ({len(data)} bytes): signature {sig} != expected {want}")
        prev = want
    if decoded.trailers or decoded.trailer_signature:
        want = trailer_signature(key, date, scope, prev, decoded.trailers)
        if decoded.trailer_signature != want:
            problems.append(f"trailer signature {decoded.trailer_signature} != expected {want}")
    return problems


def iter_chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]
