"""Production settings pass Django's deployment checklist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.core.management.utils import get_random_secret_key

ROOT = Path(__file__).resolve().parents[2]


def _production(tmp_path, *command: str, **overrides: str) -> subprocess.CompletedProcess:
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DJANGO_SETTINGS_MODULE": "plantsite.settings.production",
        "DJANGO_SECRET_KEY": "$" + get_random_secret_key() + get_random_secret_key(),  # "$" once broke env parsing
        "DJANGO_ALLOWED_HOSTS": "plants.example.org",
        "PLANTSITE_DATA_DIR": str(tmp_path),
        **overrides,
    }
    return subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True)


def test_check_deploy_is_clean_on_production_settings(tmp_path):
    result = _production(tmp_path, "manage.py", "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_hsts_preload_and_subdomains_are_off_unless_the_operator_sets_them(tmp_path):
    show = "from django.conf import settings as s; print(s.SECURE_HSTS_PRELOAD, s.SECURE_HSTS_INCLUDE_SUBDOMAINS)"
    assert _production(tmp_path, "manage.py", "shell", "--no-imports", "-c", show).stdout.split() == ["False", "False"]
    chosen = _production(
        tmp_path,
        "manage.py",
        "shell",
        "--no-imports",
        "-c",
        show,
        DJANGO_SECURE_HSTS_PRELOAD="true",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
    )
    assert chosen.stdout.split() == ["True", "True"], chosen.stderr


def test_check_deploy_is_clean_with_hsts_preload_chosen(tmp_path):
    result = _production(
        tmp_path,
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SECURE_HSTS_PRELOAD="true",
        DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_settings_refuse_to_start_without_a_secret_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SECRET_KEY"}
    env.update(
        DJANGO_SETTINGS_MODULE="plantsite.settings.production",
        DJANGO_ALLOWED_HOSTS="plants.example.org",
        PLANTSITE_DATA_DIR=str(tmp_path),
    )
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr
