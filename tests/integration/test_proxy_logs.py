"""Secrets and signatures never reach s3ha's log, even at debug level (STYLE.md: mask
`Signature=`, never print secret keys), and error bodies never echo them to the client."""

from __future__ import annotations

import re
import time

import pytest
import requests

from harness import rawclient, rawhttp
from harness.sigv4 import presign_query

pytestmark = [pytest.mark.s3ha, pytest.mark.s3rver]


def test_no_secret_or_signature_in_logs_or_error_bodies(s3rver_backend, proxy_factory,
                                                        unique_bucket):
    b = s3rver_backend
    b.create_bucket(unique_bucket)
    p = proxy_factory([b], logging={"level": "trace", "access_log": True})
    path = f"/{unique_bucket}/secret-test"
    seen_signatures = []

    s = rawclient.sign_for(p, "PUT", path, body=b"payload")
    seen_signatures.append(s.signature)
    r = rawclient.send(p, "PUT", path, body=b"payload")
    assert r.status == 200
    bad = rawclient.sign_for(p, "GET", path, secret_key="wrong-" + p.secret_key)
    seen_signatures.append(bad.signature)
    r = rawhttp.roundtrip(rawhttp.port_of(p.endpoint), "GET", path, bad.headers)
    assert r.status == 403
    error_body = r.body.decode(errors="replace")
    q = presign_query("GET", path, host=rawclient.host_of(p.endpoint), access_key=p.access_key,
                      secret_key=p.secret_key, region=p.region, expires=60)
    seen_signatures.append(q.rsplit("X-Amz-Signature=", 1)[1])
    resp = requests.get(f"{p.endpoint}{path}?{q}", timeout=15)
    assert resp.status_code == 200 and resp.content == b"payload"
    time.sleep(0.3)  # let the log flush

    log = p.log_text()
    assert log.count("secret-test") >= 3, "the requests are not in the log: nothing was checked"
    assert p.secret_key not in log, "the client secret key is in the log"
    assert p.secret_key not in error_body
    for sig in seen_signatures:
        assert sig not in log, f"a request signature ({sig[:12]}...) is in the log"
        assert sig not in error_body
    leaked = re.findall(r"(?:Signature=|X-Amz-Signature=)([0-9a-f]{64})", log)
    assert not leaked, f"unmasked signatures in the log: {leaked[:3]}"

    # The access log names who did what where: client address, access key id (never the
    # secret), S3 operation, bucket, attempts and failover reason.
    access = [ln for ln in log.splitlines() if "[access]" in ln and path in ln]
    put = [ln for ln in access if f"PUT {path} 200 " in ln]
    assert len(put) == 1, access
    assert re.search(r" client=127\.0\.0\.1:\d+ ", put[0]), put[0]
    assert (f" key={p.access_key} op=PutObject bucket={unique_bucket} attempts=1 retry=-"
            in put[0]), put[0]
    refused = [ln for ln in access if f"GET {path} 403 " in ln]
    assert len(refused) == 1 and " key=- " in refused[0], refused  # not authenticated
