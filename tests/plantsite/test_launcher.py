"""`make run`'s launcher: serves the sign-up page and leaves no process behind on Ctrl-C or SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from PIL import Image

from bench.service import RunningService
from plantsite.processes import descendants

from .conftest import ROOT, free_port


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_launcher_serves_and_stops_every_process(launcher_env, stop_signal):
    port = free_port()
    launcher = subprocess.Popen(
        [sys.executable, "-m", "plantsite.launcher", "--port", str(port), "--web-workers", "1"],
        cwd=ROOT,
        env=launcher_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        body, deadline = "", time.monotonic() + 120
        while time.monotonic() < deadline and launcher.poll() is None:
            try:
                body = urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/signup/", timeout=2).read().decode()
                break
            except OSError:
                time.sleep(0.5)
        assert 'name="password1"' in body, "sign-up page not served"
        children = set(descendants(launcher.pid))
        assert len(children) >= 3  # redis-server, celery worker, gunicorn (+ their workers)

        launcher.send_signal(stop_signal)
        output, _ = launcher.communicate(timeout=60)
        assert launcher.returncode == 0, output
        assert "broker: embedded Redis" in output
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in children):
            time.sleep(0.2)
        assert not [pid for pid in children if _alive(pid)], "processes left behind"
    finally:
        if launcher.poll() is None:
            launcher.kill()


def test_the_launcher_gives_up_on_a_worker_that_keeps_exiting(tmp_path, caplog):
    from plantsite.launcher import Launcher

    launcher = Launcher("127.0.0.1", free_port(), workers=1, data_dir=tmp_path)
    launcher.spawn("celery worker", [sys.executable, "-c", "raise SystemExit(3)"], dict(os.environ))
    child = launcher.children["celery worker"]
    deadline = time.monotonic() + 60
    try:
        while launcher.revive():
            assert time.monotonic() < deadline, f"still restarting after {len(child.restarts)} restarts in 60 s"
            time.sleep(0.05)
    finally:
        launcher.stop(timeout=5)
    assert len(child.restarts) == 5, "gave up after the wrong number of restarts"
    assert "celery worker keeps exiting (status 3); stopping the service" in caplog.text


@pytest.mark.timeout(600)
def test_health_answers_at_once_while_two_plantnet_requests_wait_for_a_busy_worker(
    tmp_path, tiny_checkpoint, monkeypatch
):
    monkeypatch.delenv("REDIS_URL", raising=False)
    hold = tmp_path / "hold"  # tests.recognition.held_worker_settings: the worker's forward passes wait
    hold.mkdir()
    (hold / "hold").touch()
    env = {
        "DJANGO_SETTINGS_MODULE": "tests.recognition.held_worker_settings",
        "PLANTSITE_TEST_HOLD_DIR": str(hold),
        "MEDIA_ROOT": str(tmp_path / "media"),
        "RECOGNITION_PLANTNET_WAIT_SECONDS": "25",
    }
    service = RunningService(tmp_path / "service", tiny_checkpoint, env=env).start()  # 2 gunicorn workers
    photo = tmp_path / "leaf.jpg"
    Image.new("RGB", (96, 80), (40, 150, 60)).save(photo)
    key = service.session.headers["Authorization"].split()[-1]

    def identify() -> int:
        with open(photo, "rb") as handle:
            files = {"images": ("leaf.jpg", handle, "image/jpeg")}
            return requests.post(f"{service.url}/v2/identify/all?api-key={key}", files=files, timeout=90).status_code

    try:
        with ThreadPoolExecutor(2) as pool:
            waiting = [pool.submit(identify) for _ in range(2)]
            deadline = time.monotonic() + 60
            while not list(hold.glob("child-*")):  # the worker holds the first one in its forward pass
                assert time.monotonic() < deadline, service.log()[-3000:]
                time.sleep(0.2)
            time.sleep(2)  # the second is stored and waiting too
            started = time.monotonic()
            health = requests.get(f"{service.url}/health/", timeout=60)
            took = time.monotonic() - started
            assert not any(request.done() for request in waiting)  # both still wait for the worker
            (hold / "hold").unlink()
            answered = [request.result() for request in waiting]
    finally:
        service.stop()
    assert health.status_code == 200 and took < 3, f"/health/ took {took:.1f}s"
    assert all(status in (200, 404) for status in answered), answered  # an answer (404: no match), not a 504
