"""The web processes start light: serving pages never imports PyTorch (only workers and commands do)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = """
import sys
import plantsite.wsgi
from django.test import Client
from django.urls import get_resolver
get_resolver().url_patterns  # import every view module
Client().get("/accounts/login/")
print("torch" in sys.modules)
"""


def test_web_process_does_not_import_torch(tmp_path):
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "plantsite.settings.test", "PLANTSITE_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"
