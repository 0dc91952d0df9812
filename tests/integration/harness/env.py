"""Paths and clean environments for every process and client the harness starts.

The machine's environment carries CA-bundle, proxy and AWS profile variables that change how S3
clients behave (rclone even fails on AWS_CA_BUNDLE over plain http). Child processes therefore get
an environment built from an allow-list, never a copy of ours.
"""

from __future__ import annotations

import os
from pathlib import Path

HARNESS_DIR = Path(__file__).resolve().parent
INTEGRATION_DIR = HARNESS_DIR.parent
REPO_ROOT = INTEGRATION_DIR.parent.parent
JS_DIR = INTEGRATION_DIR / "js"
NODE_BIN_DIR = JS_DIR / "node_modules" / ".bin"

# Debian's tools only: the PATH of the machine puts other python/aws installs first.
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# Variables of our own environment that may pass through to children.
_PASS_THROUGH = ("TMPDIR", "TERM", "TZ")

# Prefixes/names scrubbed from the pytest process itself (in-process boto3 reads them).
_SCRUB_PREFIXES = ("AWS_", "BOTO_")
_SCRUB_NAMES = (
    "SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
    "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy",
    "NODE_EXTRA_CA_CERTS", "NODE_OPTIONS",
)


def clean_env(home: str | os.PathLike | None = None, **extra: str) -> dict[str, str]:
    """A minimal environment: system PATH, C.UTF-8 locale, loopback never proxied, plus `extra`.

    `home` (a scratch folder) keeps clients from reading ~/.aws, ~/.s3cfg, ~/.config/rclone.
    """
    env = {k: os.environ[k] for k in _PASS_THROUGH if k in os.environ}
    env.update(
        PATH=SYSTEM_PATH,
        LANG="C.UTF-8",
        LC_ALL="C.UTF-8",
        HOME=str(home) if home is not None else "/nonexistent",
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    env.update({k: str(v) for k, v in extra.items()})
    return env


def scrub_process_env() -> None:
    """Remove CA-bundle, proxy and AWS variables from this (pytest) process's environment."""
    for name in list(os.environ):
        if name.startswith(_SCRUB_PREFIXES) or name in _SCRUB_NAMES:
            del os.environ[name]
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    os.environ["no_proxy"] = "127.0.0.1,localhost"
