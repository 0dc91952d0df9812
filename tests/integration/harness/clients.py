"""Real S3 clients with clean environments: boto3 (in process), aws CLI, s3cmd, rclone, node.

Every runner returns a `subprocess.CompletedProcess` (text mode) and never raises on a non-zero
exit: tests assert on `returncode`, `stdout`, `stderr`. Each run gets its own scratch HOME and
config files, removed afterwards, and only the variables it needs.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Mapping, Sequence
from urllib.parse import urlsplit

from .env import JS_DIR, clean_env

AWS_CLI = "/usr/bin/aws"
S3CMD = "/usr/bin/s3cmd"
RCLONE = "/usr/bin/rclone"
RESTIC = "/usr/bin/restic"
NODE = "/usr/bin/node"

DEFAULT_TIMEOUT = 120.0


def boto3_client(endpoint: str, access_key: str, secret_key: str, region: str = "us-east-1", *,
                 connect_timeout: float = 5, read_timeout: float = 30, max_attempts: int = 2,
                 verify: bool | str | None = None, **config_kw):
    """A boto3 S3 client: SigV4, path-style, `max_attempts` total tries, explicit timeouts.

    No shared config/credentials file, profile or CA bundle from the environment is read.
    `verify` is boto3's (a CA bundle path for https with a self-signed certificate).
    Extra keyword arguments go to botocore.config.Config (e.g. `s3={...}` replaces the s3 dict).
    """
    import boto3
    import botocore.config
    import botocore.session

    bs = botocore.session.Session()
    for var in ("config_file", "credentials_file"):
        bs.set_config_variable(var, os.devnull)
    bs.set_config_variable("profile", None)
    s3_opts = {"addressing_style": "path"}
    s3_opts.update(config_kw.pop("s3", {}))
    cfg = botocore.config.Config(
        signature_version="s3v4", s3=s3_opts, connect_timeout=connect_timeout,
        read_timeout=read_timeout, retries={"max_attempts": max_attempts, "mode": "standard"},
        **config_kw)
    session = boto3.session.Session(botocore_session=bs, aws_access_key_id=access_key,
                                    aws_secret_access_key=secret_key, region_name=region)
    return session.client("s3", endpoint_url=endpoint, config=cfg, verify=verify)


def _run(cmd: Sequence[str], env: Mapping[str, str], timeout: float, cwd=None,
         input: str | bytes | None = None) -> subprocess.CompletedProcess:
    text = not isinstance(input, bytes)
    return subprocess.run([str(c) for c in cmd], env=dict(env), cwd=cwd, input=input,
                          capture_output=True, text=text, timeout=timeout,
                          stdin=None if input is not None else subprocess.DEVNULL)


class _Scratch:
    """A scratch folder (HOME and config files of one client run), removed on exit."""

    def __enter__(self) -> Path:
        self.path = Path(tempfile.mkdtemp(prefix="s3ha-client-"))
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)


def aws_cli(endpoint: str, access_key: str, secret_key: str, *args: str, region: str = "us-east-1",
            timeout: float = DEFAULT_TIMEOUT, cwd=None, extra_env: Mapping[str, str] | None = None,
            input: str | bytes | None = None) -> subprocess.CompletedProcess:
    """`/usr/bin/aws --endpoint-url ENDPOINT ARGS...` with keys from the environment only."""
    with _Scratch() as tmp:
        cfg = tmp / "config"
        cfg.write_text("[default]\ns3 =\n    addressing_style = path\n")
        env = clean_env(
            home=tmp, AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key,
            AWS_DEFAULT_REGION=region, AWS_REGION=region, AWS_CONFIG_FILE=str(cfg),
            AWS_SHARED_CREDENTIALS_FILE=os.devnull, AWS_PAGER="", AWS_EC2_METADATA_DISABLED="true",
            AWS_MAX_ATTEMPTS="2", AWS_RETRY_MODE="standard", **(extra_env or {}))
        return _run([AWS_CLI, "--endpoint-url", endpoint, *args], env, timeout, cwd, input)


def s3cmd(endpoint: str, access_key: str, secret_key: str, *args: str, region: str = "us-east-1",
          timeout: float = DEFAULT_TIMEOUT, cwd=None) -> subprocess.CompletedProcess:
    """`/usr/bin/s3cmd -c CFG ARGS...`: SigV4, path-style (host_bucket without %(bucket)s), http."""
    u = urlsplit(endpoint)
    with _Scratch() as tmp:
        cfg = tmp / "s3cfg"
        cfg.write_text(
            "[default]\n"
            f"access_key = {access_key}\n"
            f"secret_key = {secret_key}\n"
            f"host_base = {u.netloc}\n"
            f"host_bucket = {u.netloc}\n"
            f"use_https = {'True' if u.scheme == 'https' else 'False'}\n"
            f"bucket_location = {region}\n"
            "signature_v2 = False\n"
            "socket_timeout = 30\n"
            "max_retries = 1\n"
            "progress_meter = False\n")
        return _run([S3CMD, "-c", str(cfg), *args], clean_env(home=tmp), timeout, cwd)


def rclone(endpoint: str, access_key: str, secret_key: str, *args: str, region: str = "us-east-1",
           timeout: float = DEFAULT_TIMEOUT, cwd=None, retries: int = 1) -> subprocess.CompletedProcess:
    """`/usr/bin/rclone --config CFG ARGS...`; the remote is named `s3` (e.g. `s3:bucket/key`)."""
    with _Scratch() as tmp:
        cfg = tmp / "rclone.conf"
        cfg.write_text(
            "[s3]\ntype = s3\nprovider = Other\nenv_auth = false\n"
            f"access_key_id = {access_key}\nsecret_access_key = {secret_key}\n"
            f"endpoint = {endpoint}\nregion = {region}\nforce_path_style = true\n")
        cmd = [RCLONE, "--config", str(cfg), "--retries", str(retries),
               "--low-level-retries", str(retries), "--contimeout", "5s", "--timeout", "30s", *args]
        return _run(cmd, clean_env(home=tmp), timeout, cwd)


def restic(repository: str, password: str, access_key: str, secret_key: str, *args: str,
           cache_dir: str | os.PathLike, timeout: float = DEFAULT_TIMEOUT,
           cwd=None) -> subprocess.CompletedProcess:
    """`/usr/bin/restic ARGS...` on `repository` (`s3:http://HOST:PORT/BUCKET/PREFIX`): the
    password, keys and cache folder from the environment only (a scratch HOME, no CA bundle)."""
    with _Scratch() as tmp:
        env = clean_env(home=tmp, RESTIC_REPOSITORY=repository, RESTIC_PASSWORD=password,
                        AWS_ACCESS_KEY_ID=access_key, AWS_SECRET_ACCESS_KEY=secret_key,
                        RESTIC_CACHE_DIR=str(cache_dir))
        return _run([RESTIC, *args], env, timeout, cwd)


def s3_env(endpoint: str, access_key: str, secret_key: str, region: str = "us-east-1") -> dict[str, str]:
    """The variables the JS scripts in tests/integration/js read (see js/README in the tests' README)."""
    return {"S3_ENDPOINT": endpoint, "S3_ACCESS_KEY": access_key, "S3_SECRET_KEY": secret_key,
            "S3_REGION": region}


def node_major() -> int:
    """Major version of /usr/bin/node (0 when it cannot be run)."""
    try:
        out = subprocess.run([NODE, "--version"], capture_output=True, text=True, timeout=30)
        return int(out.stdout.strip().lstrip("v").split(".")[0])
    except (OSError, ValueError, subprocess.SubprocessError):
        return 0


def node_script(path: str | os.PathLike, env: Mapping[str, str] | None = None, *args: str,
                timeout: float = DEFAULT_TIMEOUT, cwd=None) -> subprocess.CompletedProcess:
    """`/usr/bin/node PATH ARGS...` with a clean environment plus `env`.

    A relative `path` is taken from tests/integration/js. Scripts must live under that folder so
    `import` finds its node_modules.
    """
    p = Path(path)
    if not p.is_absolute():
        p = JS_DIR / p
    with _Scratch() as tmp:
        e = clean_env(home=tmp, **(env or {}))
        return _run([NODE, str(p), *args], e, timeout, cwd or JS_DIR)
