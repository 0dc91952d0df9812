"""restic (Debian's 0.14, minio-go v7 underneath) through s3ha: a real backup application.

init, backup, check --read-data, restore; then a second backup of a changed tree, forget
--keep-last 1 --prune (restic repacks and deletes objects), check --read-data again and restore
again. Every restored tree must be byte-identical to its source (SHA-256 of every file, the
empty file and the directories too). Independently of restic's own checks, every repository
object ON THE BACKEND must hold exactly the bytes restic wrote: restic names each file (all but
`config`) by the SHA-256 of its content, so a stored aws-chunked framing, a truncated or a
swapped body would show.

minio-go over plain http signs every PUT body as aws-chunked (STREAMING-AWS4-HMAC-SHA256-PAYLOAD,
x-amz-decoded-content-length, no Content-Encoding) and signs neither Content-Type nor User-Agent
nor Accept-Encoding. A recording relay between restic and s3ha shows the exact requests; the
test prints which headers each kind of request carried unsigned (the input for s3ha's
forwarding rule) and checks the facts the test relies on. The shared `proxy` runs
`aws_chunked: decode` (Swift refuses aws-chunked bodies; s3rver would store the framing).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from urllib.parse import parse_qs

import pytest

from harness import clients, rawhttp
from harness.relay import TcpRelay
from harness.s3util import MIB, backend_keys, backend_sha256, file_sha256, random_file

pytestmark = pytest.mark.s3ha

PASSWORD = "restic-test-password"
PREFIX = "restic-repo"
TIMEOUT = 240.0  # per restic command; Swift on a loaded machine is slow


def _tree(root: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under `root`, and -> "dir" for every folder."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        for name in dirnames:
            out[str((d / name).relative_to(root))] = "dir"
        for name in filenames:
            out[str((d / name).relative_to(root))] = file_sha256(d / name)
    return out


def _request_kind(m: rawhttp.Message) -> str:
    path, _, query = m.target.partition("?")
    q = parse_qs(query, keep_blank_values=True)
    if path.rstrip("/").count("/") == 1:  # /bucket or /bucket/
        if m.method == "GET" and "list-type" in q:
            return "GET bucket?list-type=2 (ListObjectsV2)"
        if m.method == "GET" and "location" in q:
            return "GET bucket?location"
        return f"{m.method} bucket"
    if m.method == "GET" and "range" in m.h:
        return "GET object (Range)"
    return f"{m.method} object"


def _signed_headers(m: rawhttp.Message) -> tuple[str, ...]:
    return tuple(re.search(r"SignedHeaders=([^,\s]+)", m.h["authorization"]).group(1).split(";"))


def _unsigned_headers(reqs: list[rawhttp.Message]) -> dict[str, dict[str, set[str]]]:
    """kind -> unsigned header name -> the values seen (Authorization itself left out)."""
    out: dict[str, dict[str, set[str]]] = {}
    for m in reqs:
        signed = _signed_headers(m)
        names = out.setdefault(_request_kind(m), {})
        for k, v in m.headers:
            if k.lower() not in signed and k.lower() != "authorization":
                names.setdefault(k.lower(), set()).add(v)
    return out


def _assert_backend_holds_what_restic_wrote(backend, bucket: str) -> list[str]:
    """Every repository object on the backend is named by the SHA-256 of its bytes (all but
    `config`); returns the keys of the pack files (data/)."""
    keys = [k for k in backend_keys(backend, bucket) if k.startswith(f"{PREFIX}/")]
    assert f"{PREFIX}/config" in keys, keys
    assert not [k for k in keys if k.startswith(f"{PREFIX}/locks/")], "a lock was left behind"
    for k in keys:
        if k == f"{PREFIX}/config":
            continue
        digest, size = backend_sha256(backend, bucket, k)
        assert digest == k.rsplit("/", 1)[1] and size > 0, (k, digest, size)
    return [k for k in keys if k.startswith(f"{PREFIX}/data/")]


def test_restic_backup_check_restore_prune(proxy, backend, backend_bucket, tmp_path):
    relay = TcpRelay("127.0.0.1", rawhttp.port_of(proxy.endpoint), record_limit=256 << 20)
    repo = f"s3:{relay.endpoint}/{backend_bucket}/{PREFIX}"
    cache = tmp_path / "restic-cache"

    def restic(*args: str) -> str:
        r = clients.restic(repo, PASSWORD, proxy.access_key, proxy.secret_key, *args,
                           cache_dir=cache, timeout=TIMEOUT, cwd=tmp_path)
        assert r.returncode == 0, (args, r.stdout[-2000:], r.stderr[-4000:])
        return r.stdout

    # Source tree: random data over several restic chunks and packs, small files, an empty
    # file, nested folders with a space in a name. Backed up as the relative path "src" so the
    # restore lands in <target>/src.
    src = tmp_path / "src"
    (src / "sub dir" / "deeper").mkdir(parents=True)
    (src / "empty-dir").mkdir()
    random_file(src / "random-5MiB.bin", 5 * MIB + 3)
    random_file(src / "sub dir" / "deeper" / "random-1MiB.bin", MIB - 1)
    for n in (1, 100, 4096, 65537):
        random_file(src / "sub dir" / f"small-{n}.bin", n)
    (src / "empty").write_bytes(b"")
    (src / "text.txt").write_text("restic through s3ha\n" * 50)
    first = _tree(src)

    try:
        restic("init")
        restic("backup", "src")
        assert "no errors were found" in restic("check", "--read-data")
        restic("restore", "latest", "--target", str(tmp_path / "restore-1"))
        assert _tree(tmp_path / "restore-1" / "src") == first
        assert (tmp_path / "restore-1" / "src" / "empty").stat().st_size == 0
        packs_1 = _assert_backend_holds_what_restic_wrote(backend, backend_bucket)

        # Second snapshot of a changed tree; forgetting the first one leaves the 5 MiB file's
        # blobs unreferenced, so prune rewrites or deletes the packs holding them.
        (src / "random-5MiB.bin").unlink()
        random_file(src / "random-2MiB.bin", 2 * MIB + 5)
        random_file(src / "sub dir" / "small-100.bin", 100)
        second = _tree(src)
        restic("backup", "src")
        assert len(json.loads(restic("snapshots", "--json"))) == 2
        restic("forget", "--keep-last", "1", "--prune")
        snapshots = json.loads(restic("snapshots", "--json"))
        assert len(snapshots) == 1, snapshots
        assert "no errors were found" in restic("check", "--read-data")
        restic("restore", "latest", "--target", str(tmp_path / "restore-2"))
        assert _tree(tmp_path / "restore-2" / "src") == second
        packs_2 = _assert_backend_holds_what_restic_wrote(backend, backend_bucket)
        assert set(packs_1) - set(packs_2), "prune deleted no pack (the DELETEs went nowhere)"

        reqs = [m for rec in relay.recorded() for m in rawhttp.parse_requests(rec)]
    finally:
        relay.stop()

    # What restic sent (client -> s3ha): header-signed SigV4 only; bodies aws-chunked signed.
    assert reqs and all(m.h.get("authorization", "").startswith("AWS4-HMAC-SHA256 ")
                        for m in reqs), [m.start_line for m in reqs]
    puts = [m for m in reqs if m.method == "PUT"]
    assert puts and {m.h["x-amz-content-sha256"] for m in puts} == \
        {"STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}
    unsigned = _unsigned_headers(reqs)
    for kind in ("PUT object", "GET object", "HEAD object", "DELETE object",
                 "GET bucket?list-type=2 (ListObjectsV2)"):
        assert kind in unsigned, sorted(unsigned)
    print(f"\nrestic {backend.kind}: {len(reqs)} requests; headers sent UNSIGNED "
          "(not in SignedHeaders; Authorization left out):")
    for kind in sorted(unsigned):
        of_kind = [m for m in reqs if _request_kind(m) == kind]
        shown = ", ".join(f"{h}: {' | '.join(sorted(v))}" if h != "content-length" else h
                          for h, v in sorted(unsigned[kind].items()))
        signed = " | ".join(sorted({";".join(_signed_headers(m)) for m in of_kind}))
        print(f"  {kind} (x{len(of_kind)}): {shown or '-'}\n      (SignedHeaders={signed})")
