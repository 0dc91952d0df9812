"""`scripts/demo.sh --self-test`: the README's "run it for real" command, end to end.

The script starts two s3rver backends and the real s3ha, prints the banner users copy from, puts,
lists and gets a file through s3ha with /usr/bin/aws (comparing SHA-256, also on the priority-1
backend), stops everything and exits 0/1. Install and build already ran for the suite, so
S3HA_SKIP_INSTALL=1 skips them.
"""

from __future__ import annotations

import os
import re
import subprocess

import pytest

from harness.env import REPO_ROOT, clean_env
from harness.s3ha import s3ha_bin

pytestmark = [pytest.mark.s3ha, pytest.mark.s3rver, pytest.mark.slow]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is gone for our purpose; the demo reaps its own children, so none should remain.
    try:
        with open(f"/proc/{pid}/status") as f:
            return not any(line.startswith("State:") and "Z" in line.split()[1] for line in f)
    except OSError:
        return False


def test_demo_self_test(tmp_path):
    # Port 0: any free port, so a demo someone runs on 9000 does not collide with the suite.
    env = clean_env(home=tmp_path, S3HA_SKIP_INSTALL="1", S3HA_BIN=str(s3ha_bin()),
                    S3HA_DEMO_PORT="0", S3HA_DEMO_ADMIN_PORT="0", TMPDIR=str(tmp_path))
    r = subprocess.run(["bash", str(REPO_ROOT / "scripts" / "demo.sh"), "--self-test"],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=240,
                       stdin=subprocess.DEVNULL)
    out = r.stdout
    assert r.returncode == 0, f"exit {r.returncode}\n--- stdout\n{out}\n--- stderr\n{r.stderr}"

    m = re.search(r"^ S3 endpoint: +http://127\.0\.0\.1:(\d+)$", out, re.M)
    assert m, out
    port = m.group(1)
    assert re.search(r"^ Access key: +demo-access-key$", out, re.M), out
    assert re.search(r"^ Secret key: +\S+$", out, re.M), out
    assert ("AWS_ACCESS_KEY_ID=demo-access-key AWS_SECRET_ACCESS_KEY=" in out
            and f"/usr/bin/aws --endpoint-url http://127.0.0.1:{port} s3 cp ./file s3://demo/"
            in out), out
    assert f"/usr/bin/aws --endpoint-url http://127.0.0.1:{port} s3 ls s3://demo/" in out, out
    assert 'boto3.client("s3", endpoint_url=' in out, out
    assert re.search(r"^ Metrics: +http://127\.0\.0\.1:\d+/metrics", out, re.M), out
    assert len(re.findall(r"^   s3rver-[12] +http://127\.0\.0\.1:\d+ +priority [12]", out, re.M)) == 2, out
    assert "self-test: sha256 matches through s3ha and on s3rver-1" in out, out
    assert "self-test: OK" in out, out

    # Everything the demo started is gone, and so is its scratch folder.
    pids = re.search(r"^ PIDs: +s3ha (\d+), s3rver-1 (\d+), s3rver-2 (\d+)$", out, re.M)
    assert pids, out
    assert not [p for p in map(int, pids.groups()) if _alive(p)]
    assert not list(tmp_path.glob("s3ha-demo.*")), "the scratch folder was not removed"
