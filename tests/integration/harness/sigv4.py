"""Our own AWS Signature Version 4 for S3, as pure functions with an explicit clock.

The tests need requests no SDK sends: signed with a shifted clock, with a wrong secret, for a
virtual-hosted `Host`, or with an aws-chunked body whose bytes we control. This module signs them
(and checks the signatures s3ha sends upstream) without botocore.

Reference: "Signature Calculations for the Authorization Header" and "Authenticating Requests:
Using Query Parameters" (https://docs.aws.amazon.com/AmazonS3/latest/API/sig-v4-header-based-auth.html,
https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence
from urllib.parse import quote, unquote

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"


def sha256_hex(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def hmac_sha256(key: bytes, msg: str | bytes) -> bytes:
    return hmac.new(key, msg.encode() if isinstance(msg, str) else msg, hashlib.sha256).digest()


def amz_date(t: _dt.datetime | None = None) -> str:
    """`YYYYMMDD'T'HHMMSS'Z'` of `t` (UTC; default: now)."""
    t = t or _dt.datetime.now(_dt.timezone.utc)
    return t.astimezone(_dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def signing_key(secret: str, date: str, region: str, service: str = "s3") -> bytes:
    """kSigning = HMAC(HMAC(HMAC(HMAC("AWS4"+secret, date), region), service), "aws4_request")."""
    k = hmac_sha256(("AWS4" + secret).encode(), date[:8])
    k = hmac_sha256(k, region)
    k = hmac_sha256(k, service)
    return hmac_sha256(k, "aws4_request")


def scope(date: str, region: str, service: str = "s3") -> str:
    return f"{date[:8]}/{region}/{service}/aws4_request"


def uri_encode(s: str, keep_slash: bool) -> str:
    """RFC 3986 encoding of UTF-8 bytes, unreserved characters kept (S3 encodes the path once)."""
    return quote(s.encode("utf-8"), safe="-_.~" + ("/" if keep_slash else ""))


def canonical_query(query: Sequence[tuple[str, str]]) -> str:
    pairs = sorted((uri_encode(k, False), uri_encode(v, False)) for k, v in query)
    return "&".join(f"{k}={v}" for k, v in pairs)


def canonical_headers(headers: Mapping[str, str], signed: Sequence[str]) -> str:
    lower = {k.lower(): v for k, v in headers.items()}
    return "".join(f"{h}:{' '.join(str(lower[h]).split())}\n" for h in signed)


def canonical_request(method: str, path: str, query: Sequence[tuple[str, str]],
                      headers: Mapping[str, str], signed: Sequence[str], payload_hash: str) -> str:
    """`path` is the decoded object path (e.g. "/bucket/a b"); it is encoded here."""
    return "\n".join([method, uri_encode(path, True), canonical_query(query),
                      canonical_headers(headers, signed), ";".join(signed), payload_hash])


def string_to_sign(date: str, scope_: str, creq: str) -> str:
    return "\n".join([ALGORITHM, date, scope_, sha256_hex(creq.encode())])


@dataclass
class Signed:
    headers: dict[str, str]     # everything to send, Authorization included
    signature: str
    amz_date: str
    scope: str
    key: bytes                  # the signing key (for aws-chunked chunk signatures)
    canonical_request: str


def sign_headers(method: str, path: str, *, host: str, access_key: str, secret_key: str,
                 region: str = "us-east-1", query: Sequence[tuple[str, str]] = (),
                 headers: Mapping[str, str] | None = None, payload_hash: str = EMPTY_SHA256,
                 when: _dt.datetime | None = None, extra_signed: Iterable[str] = ()) -> Signed:
    """Sign a request with the Authorization header. Every header given is signed (plus host,
    x-amz-date, x-amz-content-sha256); `extra_signed` names unsent headers to sign anyway."""
    date = amz_date(when)
    h = {"host": host, "x-amz-date": date, "x-amz-content-sha256": payload_hash}
    for k, v in (headers or {}).items():
        h[k.lower()] = str(v)
    signed = sorted(set(h) | {x.lower() for x in extra_signed})
    creq = canonical_request(method, path, query, h, signed, payload_hash)
    sc = scope(date, region)
    key = signing_key(secret_key, date, region)
    sig = hmac.new(key, string_to_sign(date, sc, creq).encode(), hashlib.sha256).hexdigest()
    h["authorization"] = (f"{ALGORITHM} Credential={access_key}/{sc}, "
                          f"SignedHeaders={';'.join(signed)}, Signature={sig}")
    return Signed(h, sig, date, sc, key, creq)


def presign_query(method: str, path: str, *, host: str, access_key: str, secret_key: str,
                  region: str = "us-east-1", expires: int = 300,
                  when: _dt.datetime | None = None,
                  query: Sequence[tuple[str, str]] = ()) -> str:
    """The query string of a presigned URL (X-Amz-* parameters + signature), only `host` signed."""
    date = amz_date(when)
    sc = scope(date, region)
    q = list(query) + [("X-Amz-Algorithm", ALGORITHM), ("X-Amz-Credential", f"{access_key}/{sc}"),
                       ("X-Amz-Date", date), ("X-Amz-Expires", str(expires)),
                       ("X-Amz-SignedHeaders", "host")]
    creq = canonical_request(method, path, q, {"host": host}, ["host"], UNSIGNED_PAYLOAD)
    sig = hmac.new(signing_key(secret_key, date, region), string_to_sign(date, sc, creq).encode(),
                   hashlib.sha256).hexdigest()
    return canonical_query(q) + "&X-Amz-Signature=" + sig


# -- checking what s3ha sent upstream ------------------------------------------------------------
_AUTH_RE = re.compile(r"AWS4-HMAC-SHA256\s+Credential=([^,]+),\s*SignedHeaders=([^,]+),\s*"
                      r"Signature=([0-9a-f]{64})")


@dataclass
class ParsedAuth:
    access_key: str
    date: str
    region: str
    service: str
    signed_headers: list[str]
    signature: str


def parse_authorization(value: str) -> ParsedAuth:
    m = _AUTH_RE.search(value)
    if not m:
        raise ValueError(f"not a SigV4 Authorization header: {value!r}")
    cred = m.group(1).strip().split("/")
    # the access key itself may contain '/'? S3 keys do not; Swift's test:tester has no '/'.
    ak, date, region, service = "/".join(cred[:-4]), cred[-4], cred[-3], cred[-2]
    return ParsedAuth(ak, date, region, service, m.group(2).strip().split(";"), m.group(3))


def verify_request_signature(method: str, target: str, headers: Mapping[str, str],
                             secret_key: str) -> tuple[bool, ParsedAuth, str]:
    """Recompute the Authorization signature of a received request (headers lower-case names,
    `target` the raw request-target). Returns (ok, parsed, expected_signature)."""
    auth = parse_authorization(headers["authorization"])
    path, _, qs = target.partition("?")
    query = []
    for part in filter(None, qs.split("&")):
        k, _, v = part.partition("=")
        query.append((unquote(k), unquote(v)))
    date = headers["x-amz-date"]
    creq = canonical_request(method, unquote(path), query, headers, auth.signed_headers,
                             headers.get("x-amz-content-sha256", UNSIGNED_PAYLOAD))
    sc = f"{auth.date}/{auth.region}/{auth.service}/aws4_request"
    expected = hmac.new(signing_key(secret_key, date, auth.region, auth.service),
                        string_to_sign(date, sc, creq).encode(), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, auth.signature), auth, expected
