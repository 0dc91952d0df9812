"""The shipped deployment files (docker/, deploy/) parse, are consistent with each other, and
the configurations they ship pass the real `s3ha --check-config` and `promtool`.

Fast (no container is built here; test_container.py builds and runs the image). There is no
Docker engine or Kubernetes API on this machine, so compose and the manifests are checked
structurally: every YAML document parses, and the cross-references that break a deployment
(labels and selectors, probe ports, secret keys, drain timeout vs. grace period) are checked.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from harness.env import REPO_ROOT, clean_env
from harness.s3ha import s3ha_bin

# Every metric name the Grafana dashboard and the alert rules may use: the contract with the
# metrics code (served on /metrics; README "Metrics reference"). Reconcile this list with a real
# /metrics when metric names change. Histograms are listed by their base name (_bucket/_sum/_count
# derive). Labels are the ones the dashboard and alerts group by.
METRICS = {
    "s3ha_requests_total": "counter{backend,operation,status_class}",
    "s3ha_request_duration_seconds": "histogram{backend,operation}",
    "s3ha_requests_in_flight": "gauge",
    "s3ha_requests_rejected_total": "counter{reason,code}",
    "s3ha_downstream_received_bytes_total": "counter",
    "s3ha_downstream_sent_bytes_total": "counter",
    "s3ha_backend_up": "gauge{backend}",
    "s3ha_backend_active": "gauge{backend}",
    "s3ha_failovers_total": "counter{from,to,reason}",
}
HISTOGRAMS = {n for n, kind in METRICS.items() if kind.startswith("histogram")}
PROMETHEUS_BUILTINS = {"up"}  # series Prometheus itself adds per target

DOCKER = REPO_ROOT / "docker"
DEPLOY = REPO_ROOT / "deploy"
K8S = DEPLOY / "kubernetes"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "s3ha.json"
APP_LABELS = {"app.kubernetes.io/name": "s3ha", "app.kubernetes.io/component": "proxy"}


def yaml_files() -> list[Path]:
    return sorted(p for d in (DOCKER, DEPLOY) for p in d.rglob("*")
                  if p.suffix in (".yaml", ".yml") and p.is_file())


def load_all(path: Path) -> list:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def load_one(path: Path):
    docs = load_all(path)
    assert len(docs) == 1, f"{path}: expected one YAML document, got {len(docs)}"
    return docs[0]


def k8s_objects() -> dict[str, dict]:
    """Every Kubernetes object under deploy/kubernetes by kind (one object per kind)."""
    out: dict[str, dict] = {}
    for p in sorted(K8S.glob("*.yaml")):
        for doc in load_all(p):
            if doc.get("kind") == "Kustomization":
                continue
            assert doc["kind"] not in out, f"two {doc['kind']} objects"
            out[doc["kind"]] = doc
    return out


def s3ha_container(deployment: dict) -> dict:
    containers = deployment["spec"]["template"]["spec"]["containers"]
    (c,) = [c for c in containers if c["name"] == "s3ha"]
    return c


def duration_seconds(text: str) -> float:
    m = re.fullmatch(r"(\d+)(ms|s|m|h)", str(text))
    assert m, f"not a duration: {text!r}"
    return int(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]


def check_config(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    """The real `s3ha --check-config` with exactly `env` as the secrets it can read."""
    binary = s3ha_bin()
    if not binary.exists():
        pytest.fail(f"s3ha binary not found at {binary} (build it or set S3HA_BIN)")
    return subprocess.run([str(binary), "--check-config", str(path)], capture_output=True,
                          text=True, timeout=30, env=clean_env(**env), stdin=subprocess.DEVNULL)


def metric_names(promql: str) -> set[str]:
    """s3ha_* metric names a PromQL expression reads (histogram suffixes folded)."""
    names = set()
    for tok in re.findall(r"\b(s3ha_[a-zA-Z0-9_]+)", promql):
        for suffix in ("_bucket", "_sum", "_count"):
            if tok.endswith(suffix) and tok[: -len(suffix)] in HISTOGRAMS:
                tok = tok[: -len(suffix)]
        names.add(tok)
    return names


def promtool() -> str:
    p = shutil.which("promtool")
    if p is None:
        pytest.fail("promtool not found: apt-get install prometheus (scripts/install-deps.sh)")
    return p


# -- every file parses ----------------------------------------------------------------------

def test_every_yaml_and_json_file_parses():
    files = yaml_files()
    names = {str(p.relative_to(REPO_ROOT)) for p in files}
    for must in ("docker/compose.yaml", "docker/s3ha.compose.yaml", "docker/prometheus.yml",
                 "docker/s3ha-alerts.yml", "deploy/kubernetes/deployment.yaml",
                 "deploy/grafana/provisioning/datasources/prometheus.yaml",
                 "deploy/grafana/provisioning/dashboards/s3ha.yaml"):
        assert must in names
    for p in files:
        assert load_all(p), f"{p}: empty"
    jsons = sorted(DEPLOY.rglob("*.json"))
    assert DASHBOARD in jsons
    for p in jsons:
        assert isinstance(json.loads(p.read_text()), dict), p


# -- Dockerfile -----------------------------------------------------------------------------

def dockerfile_instructions() -> list[tuple[str, str]]:
    text = (DOCKER / "Dockerfile").read_text().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_contract():
    ins = dockerfile_instructions()
    froms = [rest for word, rest in ins if word == "FROM"]
    assert len(froms) >= 2, "multi-stage: a build stage and a runtime stage"
    base = next(rest for word, rest in ins if word == "ARG" and rest.startswith("BASE_IMAGE="))
    assert base == "BASE_IMAGE=docker.io/library/debian:bookworm-slim"
    assert all(f.startswith("${BASE_IMAGE}") for f in froms)
    runtime = ins[max(i for i, (w, _) in enumerate(ins) if w == "FROM"):]
    words = dict(runtime)
    assert words["USER"].split(":")[0] not in ("0", "root")
    assert set(words["EXPOSE"].split()) == {"9000", "9001"}
    assert words["STOPSIGNAL"] == "SIGTERM"
    assert "s3ha-healthcheck" in words["HEALTHCHECK"]
    assert json.loads(words["ENTRYPOINT"]) == ["/usr/local/bin/s3ha"]
    assert json.loads(words["CMD"]) == ["--config", "/etc/s3ha/s3ha.yaml"]
    build_run = " ".join(rest for w, rest in ins[: len(ins) - len(runtime)] if w == "RUN")
    assert "--target s3ha" in build_run and "-DS3HA_BUILD_TESTS=OFF" in build_run
    assert "CMAKE_BUILD_TYPE=Release" in build_run and "strip" in build_run
    # Only runtime libraries in the runtime stage: no compiler, no -dev package.
    runtime_run = " ".join(rest for w, rest in runtime if w == "RUN")
    assert not re.search(r"\b(g\+\+|gcc|cmake|[a-z0-9.+-]+-dev)\b", runtime_run), runtime_run
    ignore = [ln.strip() for ln in (REPO_ROOT / ".dockerignore").read_text().splitlines()
              if ln.strip() and not ln.startswith("#")]
    assert ignore[0] == "*", "an allow-list: build folders, node_modules and .git stay out"
    allowed = {ln[1:].rstrip("/") for ln in ignore[1:]}
    assert allowed == {"CMakeLists.txt", "include", "src", "config/s3ha.example.yaml",
                       "docker/s3ha-healthcheck"}
    assert "HEALTHCHECK" in (DOCKER / "Dockerfile").read_text()


def test_healthcheck_script_probes_health_live():
    script = (DOCKER / "s3ha-healthcheck").read_text()
    assert script.startswith("#!/bin/bash\n")
    assert "/health/live" in script and "127.0.0.1:9001" in script
    r = subprocess.run(["bash", "-n", str(DOCKER / "s3ha-healthcheck")], capture_output=True,
                       text=True, timeout=10)
    assert r.returncode == 0, r.stderr


# -- compose --------------------------------------------------------------------------------

def resolve_compose_env(value: str) -> str:
    """${VAR:-default} and ${VAR:?msg} as compose resolves them with VAR unset."""
    def sub(m):
        if m.group(2) == ":?":
            pytest.fail(f"compose requires {m.group(1)}: the stack must start with defaults")
        return m.group(3) or ""
    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(:-|:\?)?([^}]*)\}", sub, str(value))


def test_compose_stack():
    compose = load_one(DOCKER / "compose.yaml")
    services = compose["services"]
    assert {"minio1", "minio2", "s3ha", "prometheus", "grafana"} <= set(services)
    for name in ("minio1", "minio2"):
        m = services[name]
        assert m["image"].split(":")[0] in ("quay.io/minio/minio", "minio/minio",
                                            "docker.io/minio/minio")
        assert m["healthcheck"]["test"], name
    s = services["s3ha"]
    assert s["build"]["dockerfile"] == "docker/Dockerfile"
    assert (DOCKER / s["build"]["context"] / s["build"]["dockerfile"]).resolve() == \
        (DOCKER / "Dockerfile").resolve()
    assert " ".join(s["healthcheck"]["test"]).endswith("/usr/local/bin/s3ha-healthcheck")
    assert s["read_only"] is True and s["cap_drop"] == ["ALL"]
    mounts = {v.split(":")[1]: v for v in s["volumes"]}
    assert mounts["/etc/s3ha/s3ha.yaml"] == "./s3ha.compose.yaml:/etc/s3ha/s3ha.yaml:ro"
    assert {p.split(":")[-1] for p in s["ports"]} == {"9000", "9001"}
    # The drain fits in the stop grace period.
    cfg = load_one(DOCKER / "s3ha.compose.yaml")
    assert duration_seconds(cfg["shutdown"]["drain_timeout"]) < \
        duration_seconds(s["stop_grace_period"])
    # The backends s3ha is configured with are the compose services, by name and port.
    for b in cfg["backends"]:
        host = re.match(r"http://([^:/]+):(\d+)$", b["endpoint"]).group(1)
        assert host in services and host.startswith("minio")
        assert b["access_key"] == services[host]["environment"]["MINIO_ROOT_USER"]
    # Prometheus and Grafana get their files from this repository.
    prom_mounts = {v.split(":")[1]: v.split(":")[0] for v in services["prometheus"]["volumes"]}
    assert (DOCKER / prom_mounts["/etc/prometheus/prometheus.yml"]).resolve() == \
        (DOCKER / "prometheus.yml").resolve()
    graf = {v.split(":")[1]: (DOCKER / v.split(":")[0]).resolve()
            for v in services["grafana"]["volumes"] if v.startswith(".")}
    assert graf["/etc/grafana/provisioning"] == (DEPLOY / "grafana" / "provisioning").resolve()
    assert graf["/var/lib/grafana/dashboards"] == DASHBOARD.parent.resolve()
    provider = load_one(DEPLOY / "grafana/provisioning/dashboards/s3ha.yaml")
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    ds = load_one(DEPLOY / "grafana/provisioning/datasources/prometheus.yaml")
    assert ds["datasources"][0]["url"] == "http://prometheus:9090"


def test_compose_config_passes_check_config():
    compose = load_one(DOCKER / "compose.yaml")
    env = {k: resolve_compose_env(v)
           for k, v in compose["services"]["s3ha"]["environment"].items()}
    path = DOCKER / "s3ha.compose.yaml"
    r = check_config(path, env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "configuration OK" in r.stdout + r.stderr
    # And the secrets really come from that environment: without it the config is invalid.
    r = check_config(path, {})
    assert r.returncode == 1
    for name in env:
        assert name in r.stdout + r.stderr


def test_compose_admin_listener_is_scraped():
    cfg = load_one(DOCKER / "s3ha.compose.yaml")
    admin_port = cfg["admin"]["listen"].rsplit(":", 1)[1]
    assert cfg["admin"]["listen"].startswith("0.0.0.0:"), "reachable from the prometheus service"
    prom = load_one(DOCKER / "prometheus.yml")
    (job,) = [j for j in prom["scrape_configs"] if j["job_name"] == "s3ha"]
    assert job["static_configs"][0]["targets"] == [f"s3ha:{admin_port}"]
    assert job.get("metrics_path", "/metrics") == "/metrics"


def test_promtool_checks_prometheus_config_and_rules():
    r = subprocess.run([promtool(), "check", "config", str(DOCKER / "prometheus.yml")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 rule files found" in r.stdout + r.stderr
    r = subprocess.run([promtool(), "check", "rules", str(DOCKER / "s3ha-alerts.yml")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


# -- dashboard and alerts use only the agreed metric names ------------------------------------

def dashboard_exprs() -> list[str]:
    dash = json.loads(DASHBOARD.read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    exprs += [v["definition"] for v in dash["templating"]["list"] if "definition" in v]
    return exprs


def alert_exprs() -> list[str]:
    rules = load_one(DOCKER / "s3ha-alerts.yml")
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


def test_dashboard_and_alerts_use_only_listed_metrics():
    used: set[str] = set()
    for expr in dashboard_exprs() + alert_exprs():
        names = metric_names(expr)
        unknown = names - set(METRICS)
        assert not unknown, f"{expr!r} reads metrics that are not in METRICS: {unknown}"
        if not names:
            bare = set(re.findall(r"\b([a-z_]+)\{", expr))
            assert bare <= PROMETHEUS_BUILTINS, expr
        used |= names
    # The dashboard shows every listed metric (the list is exactly what it needs).
    shown = set().union(*(metric_names(e) for e in dashboard_exprs()))
    assert shown == set(METRICS), f"not on the dashboard: {set(METRICS) - shown}"


def test_dashboard_panels():
    dash = json.loads(DASHBOARD.read_text())
    assert dash["uid"] and dash["title"] == "s3ha"
    ids = [p["id"] for p in dash["panels"]]
    assert len(ids) == len(set(ids)), "panel ids are unique"
    by_title = {p["title"]: p for p in dash["panels"]}
    p = by_title["Requests/s by backend and status class"]
    assert "sum by (backend, status_class)" in p["targets"][0]["expr"]
    lat = " ".join(t["expr"] for t in by_title["Request duration p50 / p99"]["targets"])
    assert "histogram_quantile(0.50" in lat and "histogram_quantile(0.99" in lat
    assert "s3ha_request_duration_seconds_bucket" in lat
    for p in dash["panels"]:
        assert p["datasource"]["uid"] == "${datasource}", p["title"]
        for t in p["targets"]:
            assert t["expr"].count("(") == t["expr"].count(")"), t["expr"]


# -- Kubernetes -------------------------------------------------------------------------------

def test_kubernetes_kinds_and_api_versions():
    objs = k8s_objects()
    expected = {"Deployment": "apps/v1", "Service": "v1", "ConfigMap": "v1", "Secret": "v1",
                "PodDisruptionBudget": "policy/v1",
                "HorizontalPodAutoscaler": "autoscaling/v2",
                "ServiceMonitor": "monitoring.coreos.com/v1"}
    assert set(objs) == set(expected)
    for kind, api in expected.items():
        assert objs[kind]["apiVersion"] == api, kind
    kust = load_one(K8S / "kustomization.yaml")
    for res in kust["resources"]:
        assert (K8S / res).is_file(), res
    assert "secret.example.yaml" not in kust["resources"], "the real Secret is made out of band"


def test_kubernetes_deployment():
    objs = k8s_objects()
    dep = objs["Deployment"]
    spec = dep["spec"]
    assert spec["replicas"] >= 2
    pod_labels = spec["template"]["metadata"]["labels"]
    assert spec["selector"]["matchLabels"].items() <= pod_labels.items()
    assert APP_LABELS.items() <= pod_labels.items()
    pod = spec["template"]["spec"]
    c = s3ha_container(dep)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    cfg = yaml.safe_load(objs["ConfigMap"]["data"]["s3ha.yaml"])
    assert ports["admin"] == int(cfg["admin"]["listen"].rsplit(":", 1)[1])
    assert ports["s3"] == int(cfg["server"]["listen"].rsplit(":", 1)[1])
    assert cfg["admin"]["listen"].startswith("0.0.0.0:"), "probes come from the kubelet"
    for probe, path in (("livenessProbe", "/health/live"), ("readinessProbe", "/health/ready")):
        get = c[probe]["httpGet"]
        assert get["path"] == path
        assert get["port"] in ("admin", ports["admin"])
    # Security: non-root, read-only root fs, no capabilities, no privilege escalation.
    psc, csc = pod["securityContext"], c["securityContext"]
    assert psc["runAsNonRoot"] is True and psc["runAsUser"] != 0
    assert csc["readOnlyRootFilesystem"] is True
    assert csc["allowPrivilegeEscalation"] is False
    assert csc["capabilities"]["drop"] == ["ALL"]
    assert c["resources"]["requests"]["cpu"] and c["resources"]["requests"]["memory"]
    assert c["resources"]["limits"]["memory"]
    # The drain (plus the preStop sleep) ends before the kubelet's SIGKILL.
    pre_stop = c["lifecycle"]["preStop"]["exec"]["command"]
    sleep = int(pre_stop[1]) if pre_stop[0] == "sleep" else 0
    drain = duration_seconds(cfg["shutdown"]["drain_timeout"])
    assert pod["terminationGracePeriodSeconds"] > drain + sleep
    # Config comes from the ConfigMap at the image's config path.
    assert c["args"] == ["--config", "/etc/s3ha/s3ha.yaml"]
    (mount,) = [m for m in c["volumeMounts"] if m["mountPath"] == "/etc/s3ha"]
    assert mount["readOnly"] is True
    (vol,) = [v for v in pod["volumes"] if v["name"] == mount["name"]]
    assert vol["configMap"]["name"] == objs["ConfigMap"]["metadata"]["name"]
    assert [i["key"] for i in vol["configMap"]["items"]] == ["s3ha.yaml"]


def test_kubernetes_selectors_match_the_pods():
    objs = k8s_objects()
    pod_labels = objs["Deployment"]["spec"]["template"]["metadata"]["labels"]
    svc = objs["Service"]
    assert svc["spec"]["selector"].items() <= pod_labels.items()
    assert objs["PodDisruptionBudget"]["spec"]["selector"]["matchLabels"].items() <= \
        pod_labels.items()
    pdb = objs["PodDisruptionBudget"]["spec"]
    assert pdb.get("minAvailable", 0) >= 1 or pdb.get("maxUnavailable") == 1
    assert pdb.get("minAvailable", 0) < objs["Deployment"]["spec"]["replicas"], \
        "a PDB that allows no eviction blocks node drains"
    svc_ports = {p["name"]: p for p in svc["spec"]["ports"]}
    assert svc_ports["s3"]["targetPort"] == "s3" and svc_ports["admin"]["targetPort"] == "admin"
    sm = objs["ServiceMonitor"]["spec"]
    assert sm["selector"]["matchLabels"].items() <= svc["metadata"]["labels"].items()
    assert sm["endpoints"][0]["port"] == "admin" and sm["endpoints"][0]["path"] == "/metrics"
    hpa = objs["HorizontalPodAutoscaler"]["spec"]
    assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment",
                                     "name": objs["Deployment"]["metadata"]["name"]}
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]


def test_kubernetes_configmap_passes_check_config(tmp_path):
    """The embedded config with the environment the Deployment builds from the example Secret."""
    objs = k8s_objects()
    secret = objs["Secret"]
    data = secret["stringData"]
    env = {}
    for e in s3ha_container(objs["Deployment"])["env"]:
        ref = e["valueFrom"]["secretKeyRef"]
        assert ref["name"] == secret["metadata"]["name"], e["name"]
        assert ref["key"] in data, f"{e['name']}: key {ref['key']} not in the Secret"
        env[e["name"]] = data[ref["key"]]
    path = tmp_path / "s3ha.yaml"
    path.write_text(objs["ConfigMap"]["data"]["s3ha.yaml"])
    r = check_config(path, env)
    assert r.returncode == 0, r.stdout + r.stderr
    cfg = yaml.safe_load(path.read_text())
    wanted = {b["secret_key_env"] for b in cfg["backends"]} | \
        {c["secret_key_env"] for c in cfg["credentials"]}
    assert wanted == set(env), "every *_env secret comes from the Secret, nothing else"


# -- systemd ---------------------------------------------------------------------------------

def unit_directives(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith(("#", ";", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key, []).append(value)
    return out


def test_systemd_unit(tmp_path):
    unit = DEPLOY / "systemd" / "s3ha.service"
    d = unit_directives(unit)
    assert d["ExecStart"] == ["/usr/local/bin/s3ha --config /etc/s3ha/s3ha.yaml"]
    assert d["ExecReload"][-1] == "/bin/kill -HUP $MAINPID"
    assert d["Restart"] == ["on-failure"] and d["NoNewPrivileges"] == ["yes"]
    assert d["ProtectSystem"] == ["strict"] and d["DynamicUser"] == ["yes"]
    assert int(d["LimitNOFILE"][0]) >= 65536
    assert d["KillSignal"] == ["SIGTERM"]
    assert duration_seconds(d["TimeoutStopSec"][0]) > 30, "> the default drain_timeout (30s)"
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return  # the structural checks above still ran; systemd is not installed here
    # systemd's own parser, with the binary path pointed at the binary under test.
    local = tmp_path / "s3ha.service"
    local.write_text(unit.read_text().replace("/usr/local/bin/s3ha", str(s3ha_bin())))
    r = subprocess.run([analyze, "verify", str(local)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), r.stdout + r.stderr
