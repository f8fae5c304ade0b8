"""The access log of the running service (real launcher, real gunicorn) never shows an ``api-key``."""

from __future__ import annotations

import secrets
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from plantsite.access_log import REDACTED, redact_query

from .conftest import ROOT, free_port


def _get(url: str, headers: dict | None = None) -> None:
    try:
        urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10).read()
    except urllib.error.HTTPError:
        pass  # a 401 is logged like any answer


def test_the_access_log_masks_the_api_key_of_every_request(launcher_env, tmp_path):
    key = secrets.token_hex(32)
    port = free_port()
    log = tmp_path / "service.log"
    with log.open("w") as output:
        launcher = subprocess.Popen(
            [sys.executable, "-m", "plantsite.launcher", "--port", str(port), "--web-workers", "1"],
            cwd=ROOT,
            env=launcher_env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and launcher.poll() is None:
            try:
                urllib.request.urlopen(f"{base}/health/", timeout=2)
                break
            except urllib.error.HTTPError:
                break  # answering (even 503 before the worker is up)
            except OSError:
                time.sleep(0.5)
        _get(f"{base}/v2/projects?lang=en&api-key={key}")
        _get(f"{base}/api/models/1/references/0/1/?api%2Dkey={key}")  # the name percent-encoded
        _get(f"{base}/accounts/login/", headers={"Referer": f"{base}/v2/projects?api-key={key}"})
        _get(f"{base}/api/identifications/", headers={"Authorization": f"Token {key}"})
    finally:
        launcher.send_signal(signal.SIGTERM)
        launcher.wait(timeout=60)
    text = log.read_text()
    assert "/v2/projects?lang=en&api-key=" + REDACTED in text  # the request was logged ...
    assert "/api/models/1/references/0/1/?api%2Dkey=" + REDACTED in text
    assert key not in text  # ... without its key


@pytest.mark.parametrize(
    ("logged", "expected"),
    [
        ("GET /v2/projects?api-key=abc HTTP/1.1", f"GET /v2/projects?api-key={REDACTED} HTTP/1.1"),
        ("lang=en&API-KEY=abc&x=1", f"lang=en&API-KEY={REDACTED}&x=1"),
        ("/p?api%2dkey=abc", f"/p?api%2dkey={REDACTED}"),
        ("/p?api+key=abc&key=abc", "/p?api+key=abc&key=abc"),  # other names are left as they are
    ],
)
def test_redact_query_masks_only_the_api_key_value(logged, expected):
    assert redact_query(logged) == expected
