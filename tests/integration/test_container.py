"""docker/Dockerfile, built and run for real: buildah builds the image from a local Debian
bookworm base, podman runs it (host network, runc) in front of a real s3rver, and boto3 puts and
gets objects through the container.

No Docker engine or registry is reachable here, so the base image the Dockerfile names
(`docker.io/library/debian:bookworm-slim`) is made locally with debootstrap from this machine's
Debian mirror and imported under that exact name; the build runs with `--pull=never`.

Cache (so repeated runs are fast): `$S3HA_CONTAINER_CACHE`, default `~/.cache/s3ha-container`
(outside the checkout, so fresh clones reuse it),
holds the container storage (vfs) with the base image, the ccache of the image's build stage
(buildah keeps `RUN --mount=type=cache` under `tmp/`), and the containers.conf/storage.conf the
test writes. Delete the folder to start from scratch. The s3ha image is kept under a tag that is
the digest of its inputs (context files, Dockerfile, base recipe): a run on unchanged sources
reuses it, any change rebuilds it (the ccache makes that incremental), S3HA_CONTAINER_REBUILD=1
forces a build. Ulimits are explicit in the containers.conf the test writes (podman's
`--ulimit` on the command line would replace them all and give a non-root container host
maximums it may not raise to).

Skips only when the container tools are missing and cannot be installed, or cannot run here.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import secrets
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from harness.clients import boto3_client
from harness.env import REPO_ROOT, clean_env
from harness.ports import free_port
from harness.process import StartupError, start_with_retry, tcp_probe, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.s3ha, pytest.mark.timeout(3600)]

# Outside the checkout, so CI's fresh clones of the repository reuse the base image and the ccache.
CACHE = Path(os.environ.get("S3HA_CONTAINER_CACHE")
             or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "s3ha-container")
DOCKERFILE = REPO_ROOT / "docker" / "Dockerfile"
IMAGE_REPO = "localhost/s3ha-test"
TOOLS = {"buildah": "buildah", "podman": "podman", "runc": "runc", "debootstrap": "debootstrap"}
DRAIN_TIMEOUT_S = 5

# What the local base adds to a debootstrap minbase so it behaves like the official
# bookworm-slim image: current security/updates suites, no docs/man/locales, no kept .debs,
# dpkg without fsync. A change here changes the recipe id, which rebuilds the cached base.
BASE_FILES = {
    "etc/apt/sources.list.d/debian.sources": """\
Types: deb
URIs: {mirror}
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: {security}
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
""",
    "etc/dpkg/dpkg.cfg.d/slim": """\
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
""",
    "etc/dpkg/dpkg.cfg.d/apt-speedup": "force-unsafe-io\n",
    "etc/apt/apt.conf.d/slim": """\
APT::Install-Recommends "false";
Acquire::Languages "none";
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
""",
}


def say(capsys, msg: str) -> None:
    """A line on the terminal even under pytest's capture (timings belong in the CI log)."""
    with capsys.disabled():
        print(f"\n[container] {msg}", flush=True)


def base_image_name() -> str:
    m = re.search(r"^ARG BASE_IMAGE=(\S+)$", DOCKERFILE.read_text(), re.M)
    assert m, "docker/Dockerfile declares ARG BASE_IMAGE=<image>"
    return m.group(1)


def apt_mirrors() -> tuple[str, str]:
    """(debian, debian-security) URIs this machine's apt uses (deb.debian.org if none found)."""
    mirror, security = "http://deb.debian.org/debian", "http://deb.debian.org/debian-security"
    texts = []
    for p in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        if p.suffix in (".list", ".sources") or p.name == "sources.list":
            with contextlib.suppress(OSError):
                texts.append(p.read_text())
    uris = re.findall(r"^URIs:\s*(\S+)", "\n".join(texts), re.M)
    uris += re.findall(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+bookworm", "\n".join(texts), re.M)
    for u in uris:
        u = u.rstrip("/")
        if u.endswith("/debian-security"):
            security = u
        elif u.endswith("/debian"):
            mirror = u
    return mirror, security


class Containers:
    """buildah and podman with this test's own storage and configuration (see module doc)."""

    def __init__(self, cache: Path):
        self.cache = cache
        for d in ("storage", "run", "tmp"):
            (cache / d).mkdir(parents=True, exist_ok=True)
        conf = cache / "containers.conf"
        conf.write_text(f"""\
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=4096:4096"]
netns = "host"

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
tmp_dir = "{cache / 'tmp'}"
""")
        storage = cache / "storage.conf"
        storage.write_text(f"""\
[storage]
driver = "vfs"
graphroot = "{cache / 'storage'}"
runroot = "{cache / 'run'}"
""")
        self.env = clean_env(home=cache / "tmp", CONTAINERS_CONF=str(conf),
                             CONTAINERS_STORAGE_CONF=str(storage), TMPDIR=str(cache / "tmp"))

    def run(self, *cmd, timeout: float = 120, check: bool = True, input: bytes | None = None,
            stdin=None) -> subprocess.CompletedProcess:
        r = subprocess.run([str(c) for c in cmd], env=self.env, capture_output=True,
                           timeout=timeout, input=input,
                           stdin=stdin if input is None else None)
        if check and r.returncode != 0:
            raise AssertionError(f"{' '.join(map(str, cmd))} -> {r.returncode}\n"
                                 f"{r.stdout.decode(errors='replace')[-4000:]}\n"
                                 f"{r.stderr.decode(errors='replace')[-4000:]}")
        return r

    def podman(self, *args, **kw) -> subprocess.CompletedProcess:
        return self.run("podman", *args, **kw)

    def buildah(self, *args, **kw) -> subprocess.CompletedProcess:
        return self.run("buildah", "--storage-driver", "vfs", *args, **kw)


def ensure_tools() -> None:
    """Install missing container tools with apt (as scripts/install-deps.sh would), else skip."""
    missing = [pkg for cmd, pkg in TOOLS.items() if shutil.which(cmd, path=clean_env()["PATH"])
               is None]
    if missing and os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                       env=clean_env(DEBIAN_FRONTEND="noninteractive"), capture_output=True,
                       timeout=600)
        missing = [pkg for cmd, pkg in TOOLS.items()
                   if shutil.which(cmd, path=clean_env()["PATH"]) is None]
    if missing:
        pytest.skip(f"container tools missing and not installable here: {', '.join(missing)} "
                    "(apt-get install buildah podman runc debootstrap)")


def ensure_base(c: Containers, name: str, capsys) -> tuple[float, str]:
    """The base image `name`, made with debootstrap unless the cache holds this recipe already.
    Returns (seconds spent, 0 when cached; the recipe id)."""
    mirror, security = apt_mirrors()
    files = {p: t.replace("{mirror}", mirror).replace("{security}", security)
             for p, t in BASE_FILES.items()}
    recipe = hashlib.sha256(repr(sorted(files.items())).encode()).hexdigest()[:16]
    r = c.podman("image", "inspect", "--format", '{{index .Labels "s3ha.base-recipe"}}', name,
                 check=False)
    if r.returncode == 0 and r.stdout.decode().strip() == recipe:
        return 0.0, recipe
    t0 = time.monotonic()
    say(capsys, f"making the base image {name} with debootstrap from {mirror} (cached afterwards)")
    rootfs = c.cache / "base-rootfs"
    shutil.rmtree(rootfs, ignore_errors=True)
    r = subprocess.run(["debootstrap", "--variant=minbase", "bookworm", str(rootfs), mirror],
                       env=clean_env(), capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, f"debootstrap failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    (rootfs / "etc/apt/sources.list").unlink(missing_ok=True)
    for rel, text in files.items():
        (rootfs / rel).parent.mkdir(parents=True, exist_ok=True)
        (rootfs / rel).write_text(text)
    # What the dpkg excludes would have kept out, and the apt caches debootstrap left behind.
    for sub in ("var/lib/apt/lists", "var/cache/apt", "usr/share/man", "usr/share/info"):
        d = rootfs / sub
        if d.is_dir():
            for child in d.iterdir():
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                elif child.name not in ("lock",):
                    child.unlink()
    for p in (rootfs / "usr/share/locale").iterdir():
        if p.name != "locale.alias":
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    for p in (rootfs / "usr/share/doc").rglob("*"):
        if p.is_file() and p.name != "copyright":
            p.unlink()
    tar = subprocess.Popen(["tar", "-C", str(rootfs), "-c", "."], stdout=subprocess.PIPE)
    try:
        c.podman("import", "--change", f"LABEL=s3ha.base-recipe={recipe}",
                 "--change", 'CMD=["bash"]', "-", name, stdin=tar.stdout, timeout=600)
    finally:
        tar.stdout.close()
        tar.wait(timeout=60)
    shutil.rmtree(rootfs, ignore_errors=True)
    return time.monotonic() - t0, recipe


@pytest.fixture(scope="module")
def containers():
    ensure_tools()
    c = Containers(CACHE)
    probe = c.podman("info", "--format", "{{.Host.OCIRuntime.Name}} {{.Store.GraphDriverName}}",
                     check=False, timeout=60)
    if probe.returncode != 0:
        pytest.skip("podman cannot run here: " + probe.stderr.decode(errors="replace")[-500:])
    assert probe.stdout.decode().split() == ["runc", "vfs"], probe.stdout
    # One run at a time per cache (the storage is shared).
    with open(CACHE / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield c


def context_digest(base_recipe: str) -> str:
    """Digest of everything the image is built from: the files the allow-list /.dockerignore lets
    into the context, docker/Dockerfile and the base recipe."""
    h = hashlib.sha256(base_recipe.encode())
    allowed = [ln.strip()[1:].rstrip("/") for ln in
               (REPO_ROOT / ".dockerignore").read_text().splitlines() if ln.startswith("!")]
    files = {DOCKERFILE, REPO_ROOT / ".dockerignore"}
    for rel in allowed:
        p = REPO_ROOT / rel
        files |= {f for f in p.rglob("*") if f.is_file()} if p.is_dir() else {p}
    for f in sorted(files):
        h.update(str(f.relative_to(REPO_ROOT)).encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()[:16]


@pytest.fixture(scope="module")
def image(containers, capsys_module):
    """The image of docker/Dockerfile built from the working tree. Kept in the cache under a tag
    that is the digest of its inputs, so a run on unchanged sources reuses it (as a layer cache
    would); S3HA_CONTAINER_REBUILD=1 forces a build. Older s3ha-test images are removed."""
    base_s, recipe = ensure_base(containers, base_image_name(), capsys_module)
    tag = f"{IMAGE_REPO}:{context_digest(recipe)}"
    exists = containers.podman("image", "exists", tag, check=False).returncode == 0
    t0 = time.monotonic()
    if not exists or os.environ.get("S3HA_CONTAINER_REBUILD") == "1":
        containers.buildah("bud", "--isolation", "chroot", "--format", "docker", "--pull=never",
                           "-f", DOCKERFILE, "-t", tag, REPO_ROOT, timeout=3000)
        build = f"docker/Dockerfile build: {time.monotonic() - t0:.1f} s"
    else:
        build = "docker/Dockerfile: image of identical inputs reused (S3HA_CONTAINER_REBUILD=1 rebuilds)"
    size = containers.podman("image", "inspect", "--format", "{{.Size}}", tag).stdout
    say(capsys_module, f"base image: {'cached' if base_s == 0 else f'made in {base_s:.1f} s'}; "
        f"{build}; image size {int(size.decode().strip()) / 1e6:.1f} MB")
    listing = containers.podman("images", "--format", "{{.Repository}}:{{.Tag}}", IMAGE_REPO)
    for old in set(listing.stdout.decode().split()) - {tag}:
        containers.podman("rmi", "--force", old, check=False)
    # Dangling images an earlier build left; the base and this image stay.
    containers.podman("image", "prune", "--force", check=False, timeout=300)
    yield tag


@pytest.fixture(scope="module")
def capsys_module(request):
    """capsys for module-scoped fixtures (prints through pytest's capture manager)."""
    capman = request.config.pluginmanager.getplugin("capturemanager")

    class _Say:
        @contextlib.contextmanager
        def disabled(self):
            with capman.global_and_fixture_disabled():
                yield

    return _Say()


class RunningContainer:
    def __init__(self, c: Containers, cid: str, name: str):
        self.c, self.cid, self.name = c, cid, name

    def inspect(self, fmt: str) -> str:
        return self.c.podman("inspect", "--format", fmt, self.cid).stdout.decode().strip()

    @property
    def running(self) -> bool:
        r = self.c.podman("inspect", "--format", "{{.State.Running}}", self.cid, check=False)
        return r.returncode == 0 and r.stdout.decode().strip() == "true"

    def exec(self, *cmd, env: dict[str, str] | None = None, check: bool = False):
        envs = [a for k, v in (env or {}).items() for a in ("--env", f"{k}={v}")]
        return self.c.podman("exec", *envs, self.cid, *cmd, check=check, timeout=60)

    def logs(self) -> str:
        r = self.c.podman("logs", self.cid, check=False)
        return (r.stdout + r.stderr).decode(errors="replace")


def test_image_runs_s3ha_in_front_of_a_real_backend(containers, image, s3rver_backend,
                                                      tmp_path, unique_bucket, capsys):
    backend = s3rver_backend
    backend.create_bucket(unique_bucket)
    client_key, client_secret = "s3ha-container", "container-secret-" + secrets.token_hex(8)
    cfg = tmp_path / "s3ha.yaml"

    def start():
        """Ports picked now; a clash (the container's s3ha cannot listen) is retried."""
        listen, admin = free_port(), free_port()
        cfg.write_text(f"""\
server:
  listen: "127.0.0.1:{listen}"
  workers: 2
admin:
  listen: "127.0.0.1:{admin}"
credentials:
  - access_key: {client_key}
    secret_key_env: S3HA_CLIENT_SECRET_KEY
backends:
  - name: s3rver
    endpoint: {backend.endpoint}
    access_key: {backend.access_key}
    secret_key_env: S3HA_BACKEND_SECRET_KEY
    health_check:
      type: s3
      interval: 1s
      timeout: 500ms
      rise: 1
      fall: 2
logging:
  level: info
  format: text
  access_log: true
shutdown:
  drain_timeout: {DRAIN_TIMEOUT_S}s
""")
        cfg.chmod(0o644)  # the container's user (uid 10001) reads it through the bind mount
        name = f"s3ha-test-{secrets.token_hex(4)}"
        t0 = time.monotonic()
        r = containers.podman(
            "run", "--detach", "--name", name, "--network", "host", "--runtime", "runc",
            "--read-only", "--cap-drop", "ALL",
            "--security-opt", "no-new-privileges",
            "--env", f"S3HA_CLIENT_SECRET_KEY={client_secret}",
            "--env", f"S3HA_BACKEND_SECRET_KEY={backend.secret_key}",
            "--env", f"S3HA_HEALTH_ADDR=127.0.0.1:{admin}",
            "--volume", f"{cfg}:/etc/s3ha/s3ha.yaml:ro", image, timeout=180)
        ctr = RunningContainer(containers, r.stdout.decode().strip(), name)

        def ready() -> bool:
            if not ctr.running:
                logs = ctr.logs()[-4000:]
                containers.podman("rm", "--force", "--time", "0", ctr.cid, check=False,
                                  timeout=120)
                raise StartupError("the container exited:\n" + logs,
                                   addr_in_use="address already in use" in logs.lower())
            return tcp_probe("127.0.0.1", listen)() and tcp_probe("127.0.0.1", admin)()

        try:
            wait_until(ready, timeout=60, interval=0.2, what="s3ha in the container listening")
        except TimeoutError:
            containers.podman("rm", "--force", "--time", "0", ctr.cid, check=False, timeout=120)
            raise
        return ctr, listen, time.monotonic() - t0

    ctr, listen, start_s = start_with_retry(start)
    cid = ctr.cid
    try:
        # Put and get through the container: byte-identical, and stored as such on the backend.
        s3 = boto3_client(f"http://127.0.0.1:{listen}", client_key, client_secret)
        body = os.urandom(3 * 1024 * 1024 + 17)
        digest = hashlib.sha256(body).hexdigest()
        s3.put_object(Bucket=unique_bucket, Key="through/the container.bin", Body=body)
        got = s3.get_object(Bucket=unique_bucket, Key="through/the container.bin")
        assert got["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert got["Body"].read() == body
        direct = backend.client().get_object(Bucket=unique_bucket, Key="through/the container.bin")
        assert hashlib.sha256(direct["Body"].read()).hexdigest() == digest
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket=unique_bucket).get("Contents", [])]
        assert keys == ["through/the container.bin"]
        # The secret is the container's env: a wrong one is refused by s3ha itself.
        bad = boto3_client(f"http://127.0.0.1:{listen}", client_key, "not-the-secret",
                           max_attempts=1)
        with pytest.raises(Exception) as err:
            bad.get_object(Bucket=unique_bucket, Key="through/the container.bin")
        assert getattr(err.value, "response", {}).get("Error", {}).get("Code") == \
            "SignatureDoesNotMatch"

        # Non-root: inside the container and as the host sees the process.
        assert ctr.exec("id", "-u", check=True).stdout.decode().strip() == "10001"
        host_pid = int(ctr.inspect("{{.State.Pid}}"))
        uids = re.search(r"^Uid:\s+(\d+)\s+(\d+)", Path(f"/proc/{host_pid}/status").read_text(),
                         re.M)
        assert uids and uids.groups() == ("10001", "10001")
        cap_eff = re.search(r"^CapEff:\s+(\w+)", Path(f"/proc/{host_pid}/status").read_text(),
                            re.M)
        assert int(cap_eff.group(1), 16) == 0, "no capabilities"
        limits = Path(f"/proc/{host_pid}/limits").read_text()
        assert re.search(r"^Max open files\s+20000\s+20000", limits, re.M), limits

        # The image's HEALTHCHECK: podman runs it; the same command fails when s3ha does not
        # answer 200 (a port nobody listens on, a path that is not /health/live).
        assert "s3ha-healthcheck" in ctr.inspect("{{json .Config.Healthcheck.Test}}")
        hc = containers.podman("healthcheck", "run", cid, check=False, timeout=60)
        hc_out = (hc.stdout + hc.stderr).decode(errors="replace")
        if hc.returncode == 0:
            assert ctr.inspect("{{.State.Health.Status}}") == "healthy"
        elif "unhealthy" in hc_out:
            why = ctr.exec("/usr/local/bin/s3ha-healthcheck")
            pytest.fail("the image's HEALTHCHECK reports unhealthy: "
                        + (why.stdout + why.stderr).decode(errors="replace"))
        else:  # podman cannot run health checks here: run the image's command itself
            say(capsys, "podman healthcheck run is not usable here, running the HEALTHCHECK "
                "command with podman exec: " + hc_out.strip()[-300:])
            assert ctr.exec("/usr/local/bin/s3ha-healthcheck").returncode == 0
        dead = ctr.exec("/usr/local/bin/s3ha-healthcheck",
                        env={"S3HA_HEALTH_ADDR": f"127.0.0.1:{free_port()}"})
        assert dead.returncode == 1, dead.stdout
        wrong = ctr.exec("/usr/local/bin/s3ha-healthcheck",
                         env={"S3HA_HEALTH_PATH": "/no/such/endpoint"})
        assert wrong.returncode == 1, wrong.stdout

        # SIGTERM (the image's STOPSIGNAL): drain and exit 0 within the drain timeout.
        assert ctr.inspect("{{.Config.StopSignal}}") in ("15", "SIGTERM")
        t_stop = time.monotonic()
        containers.podman("stop", "--time", str(DRAIN_TIMEOUT_S + 10), cid, timeout=60)
        stop_s = time.monotonic() - t_stop
        assert ctr.inspect("{{.State.ExitCode}}") == "0", ctr.logs()[-4000:]
        assert stop_s < DRAIN_TIMEOUT_S + 2, f"stop took {stop_s:.1f} s"
        logs = ctr.logs()
        assert "draining" in logs, logs[-4000:]
        assert client_secret not in logs, "a secret from the environment reached the log"
        say(capsys, f"container: listening {start_s:.1f} s after podman run; "
            f"SIGTERM to exit 0 in {stop_s:.1f} s")
    finally:
        containers.podman("rm", "--force", "--time", "0", cid, check=False, timeout=120)
