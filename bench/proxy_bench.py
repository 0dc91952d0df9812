"""Helpers of bench/run-proxy-bench.sh (run with Debian's /usr/bin/python3, which has boto3).

  presign ENDPOINT ACCESS_KEY SECRET_KEY REGION METHOD BUCKET KEY
      prints a SigV4 presigned URL (GET or PUT, 7-day expiry, path-style) for ENDPOINT.
  report RAW_DIR
      reads the raw outputs the script saved in RAW_DIR (wrk-TARGET-ROUND.txt, get-*.txt,
      put-*.txt, cpu-large-*.txt, meta.txt) and prints the Markdown report: the table, the ratios
      against the goals, notes.

Goals (s3ha's data path): small-object GET req/s >= 0.9x HAProxy's, p99 latency <= 1.5x
HAProxy's, large-object GET/PUT throughput >= 0.9x direct.
"""

from __future__ import annotations

import re
import statistics
import sys
from pathlib import Path

TARGETS = ("direct", "haproxy", "haproxy_splice", "floor", "s3ha")
SMALL_TARGETS = ("direct", "haproxy", "floor", "s3ha")  # HAProxy splicing: large objects only
PUT_TARGETS = ("direct", "haproxy", "haproxy_splice", "s3ha")  # the floor relays no request body


def presign(endpoint: str, access_key: str, secret_key: str, region: str, method: str,
            bucket: str, key: str) -> str:
    import boto3
    import botocore.config
    import botocore.session

    bs = botocore.session.Session()
    for var in ("config_file", "credentials_file"):
        bs.set_config_variable(var, "/dev/null")
    session = boto3.session.Session(botocore_session=bs, aws_access_key_id=access_key,
                                    aws_secret_access_key=secret_key, region_name=region)
    cfg = botocore.config.Config(signature_version="s3v4", s3={"addressing_style": "path"})
    client = session.client("s3", endpoint_url=endpoint, config=cfg)
    op = {"GET": "get_object", "PUT": "put_object"}[method.upper()]
    return client.generate_presigned_url(op, Params={"Bucket": bucket, "Key": key},
                                         ExpiresIn=7 * 24 * 3600)


# -- parsing the raw outputs --------------------------------------------------------------------
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


# Large transfers whose fastest run is more than this many times its slowest cannot support a
# 0.9x verdict from their medians.
SPREAD_LIMIT = 1.5


def _ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not m:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(path: Path) -> dict | None:
    """Requests/s, p50/p99 (ms), request count, non-2xx/3xx count and socket errors."""
    if not path.exists():
        return None
    text = path.read_text(errors="replace")
    out: dict = {"non2xx": 0, "socket_errors": 0}
    m = re.search(r"Requests/sec:\s+([\d.]+)", text)
    if not m:
        return {"error": text.strip().splitlines()[-1] if text.strip() else "no output"}
    out["rps"] = float(m.group(1))
    for pct in ("50", "99"):
        m = re.search(rf"^\s+{pct}(?:\.000)?%\s+(\S+)", text, re.M)
        out[f"p{pct}"] = _ms(m.group(1)) if m else None
    m = re.search(r"(\d+) requests in", text)
    out["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["socket_errors"] = sum(int(x) for x in m.groups())
    return out


def parse_wrk_rounds(raw: Path, target: str) -> dict | None:
    """The rounds of one target combined: req/s is their mean (equal durations), p50/p99 their
    median, counts their sums; `rounds` keeps each round's req/s and p99."""
    runs = sorted((int(m.group(1)), path) for path in raw.glob(f"wrk-{target}-*.txt")
                  if (m := re.fullmatch(rf"wrk-{re.escape(target)}-(\d+)\.txt", path.name)))
    parsed = [parse_wrk(path) for _, path in runs]
    if not parsed:
        return None
    failed = [w for w in parsed if "error" in w]
    if failed:
        return failed[0]
    out = {"rps": statistics.mean(w["rps"] for w in parsed),
           "rounds": [(w["rps"], w["p99"]) for w in parsed]}
    for key in ("p50", "p99"):
        values = [w[key] for w in parsed if w[key] is not None]
        out[key] = statistics.median(values) if values else None
    for key in ("requests", "non2xx", "socket_errors"):
        out[key] = sum(w[key] or 0 for w in parsed)
    return out


def parse_transfers(path: Path) -> dict | None:
    """Lines `HTTP_CODE BYTES_PER_SECOND` (curl -w); median of the 2xx runs, in MiB/s."""
    if not path.exists():
        return None
    ok, failed = [], []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) != 2:
            continue
        code, speed = parts
        (ok if code.startswith("2") else failed).append((code, float(speed)))
    speeds = [s / (1024 * 1024) for _, s in ok]
    return {
        "median": statistics.median(speeds) if speeds else None,
        "min": min(speeds) if speeds else None,
        "max": max(speeds) if speeds else None,
        "runs": len(ok),
        "failed": [c for c, _ in failed],
    }


def parse_large_cpu(path: Path, hz: float, gib: float) -> dict | None:
    """Lines `GET_TICKS [PUT_TICKS]`: the proxy's mean CPU seconds per GiB moved, GET and PUT
    (None without PUT runs)."""
    if not path.exists() or gib <= 0:
        return None
    rows = [[int(x) for x in line.split()] for line in path.read_text().splitlines() if line.strip()]

    def per_gib(i: int) -> float | None:
        ticks = [r[i] for r in rows if len(r) > i]
        return sum(ticks) / hz / len(ticks) / gib if ticks else None

    return {"get": per_gib(0), "put": per_gib(1)} if rows else None


def read_meta(path: Path) -> dict[str, str]:
    meta: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if "=" in line:
                k, v = (x.strip() for x in line.split("=", 1))
                meta[k] = f"{meta[k]} {v}" if k == "notes" and k in meta else v
    return meta


# -- the report ---------------------------------------------------------------------------------
def _f(v, fmt: str, na: str = "n/a") -> str:
    return na if v is None else format(v, fmt)


def _ratio(a, b) -> float | None:
    return a / b if a is not None and b not in (None, 0) else None


def report(raw: Path) -> str:
    meta = read_meta(raw / "meta.txt")
    wrk = {t: parse_wrk_rounds(raw, t) for t in TARGETS}
    get = {t: parse_transfers(raw / f"get-{t}.txt") for t in TARGETS}
    put = {t: parse_transfers(raw / f"put-{t}.txt") for t in TARGETS}
    large = meta.get("large_mib", "1024")
    large_cpu = {t: parse_large_cpu(raw / f"cpu-large-{t}.txt", float(meta.get("clk_tck", "100")),
                                    int(large) / 1024) for t in TARGETS}
    lines = [f"# Proxy data-path benchmark, {meta.get('date', '?')}", ""]
    lines += [
        f"- Machine: {meta.get('cpu', '?')}, {meta.get('cores', '?')} cores, "
        f"kernel {meta.get('kernel', '?')}; everything on 127.0.0.1, **wrk/curl share the same "
        f"cores as the servers**. CPUs busy with other work in the 3 s before the run: "
        f"{meta.get('busy_before', '?')} %; load average (1/5/15 min) before "
        f"{meta.get('load_before', '?')}, after {meta.get('load_after', '?')}.",
        f"- s3ha: `{meta.get('s3ha_version', '?')}` ({meta.get('s3ha_bin', '?')}), "
        f"{meta.get('workers', '2')} workers; nginx {meta.get('nginx_version', '?')} "
        f"({meta.get('workers', '2')} worker processes); HAProxy {meta.get('haproxy_version', '?')} "
        f"(nbthread {meta.get('workers', '2')}; \"splicing\": the same with `option "
        f"splice-request`, `option splice-response` and `tune.pipesize 1048576`, s3ha's pipe "
        f"size); {meta.get('wrk_version', '?')}; "
        f"{meta.get('curl_version', '?')}.",
        f"- Small GET: 4 KiB object, {meta.get('small_rounds', '?')} rounds of "
        f"`wrk {meta.get('wrk_args', '?')}` per target, round-robin over the targets, after a "
        f"{meta.get('wrk_warmup', '?')} warm-up each; req/s is the mean of the rounds, p50/p99 "
        f"their median; the same presigned URL (path and query) for all targets.",
        f"- Large: {large} MiB object, `curl` to /dev/null (GET) and `curl -T` (PUT, "
        f"`Expect:` disabled), median of {meta.get('large_runs', '?')} runs (min-max in "
        f"brackets), taken round-robin over the targets; a goal whose runs spread more than "
        f"{SPREAD_LIMIT}x (max/min) is inconclusive. Backend nginx serves from / writes to tmpfs (`dav_methods PUT`).",
        "",
        "| | direct (nginx) | HAProxy | HAProxy, splicing | Asio floor | s3ha |",
        "|---|---:|---:|---:|---:|---:|",
    ]

    def row(name: str, cells: list[str]) -> None:
        lines.append(f"| {name} | " + " | ".join(cells) + " |")

    def wrk_cell(t: str, key: str, fmt: str) -> str:
        w = wrk[t]
        if t not in SMALL_TARGETS:
            return "n/a"
        if w is None:
            return "not run"
        if "error" in w:
            return "failed"
        return _f(w.get(key), fmt)

    row("small GET req/s", [wrk_cell(t, "rps", ",.0f") for t in TARGETS])
    row("small GET p50 (ms)", [wrk_cell(t, "p50", ".2f") for t in TARGETS])
    row("small GET p99 (ms)", [wrk_cell(t, "p99", ".2f") for t in TARGETS])
    def cpu_cell(t: str) -> str:
        seconds, w = meta.get(f"{t}_cpu_seconds"), wrk[t]
        if seconds is None or not w or "error" in w or not w.get("requests"):
            return "n/a"
        return f"{float(seconds) * 1e6 / w['requests']:.1f}"

    row("proxy CPU per small GET (µs, user+sys)", [cpu_cell(t) for t in TARGETS])
    row("small GET errors (non-2xx / socket)",
        [("n/a" if not wrk[t] or "error" in wrk[t] else f"{wrk[t]['non2xx']} / {wrk[t]['socket_errors']}")
         for t in TARGETS])
    row("small GET req/s by round", [
        ("n/a" if not wrk[t] or "error" in wrk[t] else
         " / ".join(f"{rps / 1000:.1f}k" for rps, _ in wrk[t]["rounds"])) for t in TARGETS])

    def xfer_cell(d: dict | None) -> str:
        if d is None:
            return "not run"
        if d["median"] is None:
            return "failed " + ",".join(d["failed"]) if d["failed"] else "failed"
        cell = f"{d['median']:,.0f} [{d['min']:,.0f}-{d['max']:,.0f}]"
        if d["failed"]:
            cell += f" ({len(d['failed'])} failed: {','.join(d['failed'])})"
        return cell

    def large_cells(d: dict, targets: tuple[str, ...] = TARGETS) -> list[str]:
        return [(xfer_cell(d[t]) if t in targets else "n/a") for t in TARGETS]

    row(f"{large} MiB GET (MiB/s)", large_cells(get))
    row(f"{large} MiB PUT (MiB/s)", large_cells(put, PUT_TARGETS))
    row("proxy CPU per GiB, GET / PUT (s, user+sys)", [
        ("n/a" if (c := large_cpu[t]) is None else f"{_f(c['get'], '.2f')} / {_f(c['put'], '.2f')}")
        for t in TARGETS])
    row("peak RSS, VmHWM (MiB)", [
        _f(_kib_to_mib(meta.get(f"{t}_vmhwm_kib")), ",.1f") for t in TARGETS])

    def w(t, k):
        return wrk[t].get(k) if wrk[t] and "error" not in wrk[t] else None

    def med(d):
        return d["median"] if d else None

    def spread(*ds) -> float | None:
        """The widest max/min of the runs behind a ratio: above SPREAD_LIMIT the median of a
        handful of runs cannot tell 0.9x from 0.7x, so the goal is reported as inconclusive."""
        s = [d["max"] / d["min"] for d in ds if d and d["median"] is not None and d["min"] > 0]
        return max(s) if s else None

    checks = [
        ("small GET req/s, s3ha / HAProxy", _ratio(w("s3ha", "rps"), w("haproxy", "rps")), ">= 0.90", lambda r: r >= 0.9, None),
        ("small GET p99, s3ha / HAProxy", _ratio(w("s3ha", "p99"), w("haproxy", "p99")), "<= 1.50", lambda r: r <= 1.5, None),
        (f"{large} MiB GET, s3ha / direct", _ratio(med(get["s3ha"]), med(get["direct"])), ">= 0.90", lambda r: r >= 0.9,
         spread(get["s3ha"], get["direct"])),
        (f"{large} MiB PUT, s3ha / direct", _ratio(med(put["s3ha"]), med(put["direct"])), ">= 0.90", lambda r: r >= 0.9,
         spread(put["s3ha"], put["direct"])),
    ]
    lines += ["", "| goal | ratio | target | result |", "|---|---:|---:|---|"]
    for name, r, target, ok, sp in checks:
        if r is None:
            verdict = "n/a"
        elif sp is not None and sp > SPREAD_LIMIT:
            verdict = f"inconclusive (runs spread {sp:.1f}x)"
        else:
            verdict = "met" if ok(r) else "**missed**"
        lines.append(f"| {name} | {_f(r, '.2f')} | {target} | {verdict} |")
    # For context: how HAProxy itself compares with direct.
    def by_round(key: str) -> str:
        a, b = wrk["s3ha"], wrk["haproxy"]
        if not a or not b or "error" in a or "error" in b:
            return "n/a"
        i = 0 if key == "rps" else 1
        return ", ".join(_f(_ratio(x[i], y[i]), ".2f") for x, y in zip(a["rounds"], b["rounds"]))

    lines += ["", "For context (not goals): s3ha / HAProxy round by round: req/s "
              f"{by_round('rps')}; p99 {by_round('p99')}. HAProxy / direct req/s "
              f"{_f(_ratio(w('haproxy', 'rps'), w('direct', 'rps')), '.2f')}, "
              f"GET {_f(_ratio(med(get['haproxy']), med(get['direct'])), '.2f')}, "
              f"PUT {_f(_ratio(med(put['haproxy']), med(put['direct'])), '.2f')}; HAProxy "
              "splicing / direct GET "
              f"{_f(_ratio(med(get['haproxy_splice']), med(get['direct'])), '.2f')}, "
              f"PUT {_f(_ratio(med(put['haproxy_splice']), med(put['direct'])), '.2f')}; Asio floor "
              f"(blocking splice) / direct GET {_f(_ratio(med(get['floor']), med(get['direct'])), '.2f')}. "
              "Asio floor / HAProxy req/s "
              f"{_f(_ratio(w('floor', 'rps'), w('haproxy', 'rps')), '.2f')} (bench/relay_floor.cpp: "
              "a relay built like s3ha that does no per-request work; s3ha's cost above it is "
              "its own per-request work)."]
    if meta.get("s3ha_instructions_per_get"):
        lines += ["", f"s3ha executed {int(meta['s3ha_instructions_per_get']):,} instructions per "
                  "small GET (callgrind, BENCH_CALLGRIND=1; by function in the -callgrind-s3ha.txt "
                  "file next to this one; OpenSSL runs without SHA-NI under valgrind)."]
    notes = meta.get("notes", "")
    if notes:
        lines += ["", "Notes: " + notes]
    return "\n".join(lines) + "\n"


def _kib_to_mib(v: str | None) -> float | None:
    try:
        return int(v) / 1024 if v else None
    except ValueError:
        return None


def main(argv: list[str]) -> int:
    if len(argv) >= 2 and argv[1] == "presign" and len(argv) == 9:
        print(presign(*argv[2:]))
        return 0
    if len(argv) == 3 and argv[1] == "report":
        sys.stdout.write(report(Path(argv[2])))
        return 0
    sys.stderr.write(__doc__)
    return 64


if __name__ == "__main__":
    sys.exit(main(sys.argv))
