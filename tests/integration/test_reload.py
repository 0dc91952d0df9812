"""SIGHUP reloads the configuration file: a valid new config (credentials, backends, policies, log
level) takes effect for new requests without dropping open connections; an invalid one is
rejected, its errors logged, and the old one kept. Real s3rver backends, the real binary.
"""

from __future__ import annotations

import os
import signal
import time

import pytest
import yaml

from harness import rawclient, rawhttp
from harness.backends import S3rverBackend
from harness.s3util import backend_keys, sha256

pytestmark = pytest.mark.s3ha

NEW_AK = "reloaded-client"
NEW_SK = "reloaded-secret-0123456789"


def _wait_log(p, needle: str, count: int = 1, timeout: float = 10.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = p.log_text()
        if text.count(needle) >= count:
            return text
        time.sleep(0.05)
    raise AssertionError(f"{needle!r} x{count} not in the s3ha log:\n{p.log_text()[-3000:]}")


def _signed(p, method, path, body=b"", **kw) -> bytes:
    s = rawclient.sign_for(p, method, path, body=body, **kw)
    return rawhttp.request_bytes(method, rawclient.encoded_target(path), s.headers, body)


def test_sighup_applies_new_credentials_and_backends_keeping_open_connections(tmp_path,
                                                                              s3ha_factory):
    with S3rverBackend(tmp_path / "a", buckets=["reload"]) as a, \
            S3rverBackend(tmp_path / "b", buckets=["reload"]) as b:
        p = s3ha_factory([a])
        old_ak, old_sk = p.access_key, p.secret_key
        with rawhttp.Conn(rawhttp.port_of(p.endpoint), timeout=10) as conn:
            data1 = os.urandom(1000)
            conn.send(_signed(p, "PUT", "/reload/before.bin", data1))
            assert conn.response("PUT").status == 200
            assert backend_keys(a, "reload") == ["before.bin"]

            p.rewrite_config(credentials=[{"access_key": NEW_AK, "secret_key": NEW_SK}],
                             backends=[{"name": "b-new", "endpoint": b.endpoint,
                                        "access_key": b.access_key, "secret_key": b.secret_key,
                                        "aws_chunked": b.aws_chunked,
                                        "health_check": {"type": "s3", "interval": "1s",
                                                         "timeout": "500ms", "rise": 1,
                                                         "fall": 2}}],
                             logging={"level": "warn"})
            p.send_signal(signal.SIGHUP)
            _wait_log(p, "configuration reloaded")

            # The connection opened before the reload is still open and serves new requests
            # with the new configuration: the old key is unknown now ...
            conn.send(_signed(p, "GET", "/reload/before.bin", access_key=old_ak,
                              secret_key=old_sk))
            r = conn.response("GET")
            assert (r.status, r.s3_code) == (403, "InvalidAccessKeyId"), (r.status, r.body[:300])
            # ... and the new key writes to the new backend.
            data2 = os.urandom(2000)
            conn.send(_signed(p, "PUT", "/reload/after.bin", data2, access_key=NEW_AK,
                              secret_key=NEW_SK))
            r = conn.response("PUT")
            assert r.status == 200, (r.status, r.body[:300])
        assert backend_keys(b, "reload") == ["after.bin"]
        assert backend_keys(a, "reload") == ["before.bin"]
        got = b.client().get_object(Bucket="reload", Key="after.bin")["Body"].read()
        assert sha256(got) == sha256(data2)
        # The new log level took effect: no info line (access log included) after the reload.
        after = p.log_text().split("configuration reloaded", 1)[1]
        assert " info " not in after and "[access]" not in after, after[:2000]
        assert "[access]" in p.log_text().split("configuration reloaded", 1)[0]
        assert p.process.alive


def test_sighup_with_invalid_config_keeps_the_old_one(tmp_path, s3ha_factory):
    with S3rverBackend(tmp_path / "a", buckets=["keep"]) as a:
        p = s3ha_factory([a])
        good = p.config_path.read_text()
        bad = yaml.safe_load(good)
        bad["routing"].update({"policy": "fastest", "bogus_key": 1})
        p.config_path.write_text(yaml.safe_dump(bad))
        p.send_signal(signal.SIGHUP)
        text = _wait_log(p, "reload rejected")
        tail = text.split("reload rejected", 1)[1]
        assert "fastest" in tail and "bogus_key" in tail, tail[:2000]
        assert p.secret_key not in text  # secrets never logged
        # The old configuration still serves.
        r = rawclient.send(p, "PUT", "/keep/x.bin", body=b"still here")
        assert r.status == 200, (r.status, r.body[:300])
        assert backend_keys(a, "keep") == ["x.bin"]
        # A later valid reload still works.
        p.config_path.write_text(good)
        p.send_signal(signal.SIGHUP)
        _wait_log(p, "configuration reloaded")
        assert rawclient.send(p, "GET", "/keep/x.bin").body == b"still here"
        assert p.process.alive
