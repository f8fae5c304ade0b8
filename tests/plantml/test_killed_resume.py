"""Resume after a real SIGKILL (plantml/training/resume.py) and atomic checkpoint saves (plantml/checkpoint.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from plantml.checkpoint import load_checkpoint
from plantml.training import recipes
from plantml.training.config import resolve_config
from plantml.training.run import train
from tests.plantml.killed_run import SIDE

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
# head epoch 1 (32 px), fine-tune epoch 2 (32 px), hires epoch 3 (40 px)
OPTIONS = recipes.tiny(head_epochs=1, hires_epochs=1, hires_size=40, mixup=0.4, seed=3)


def _child(*args: str) -> subprocess.Popen:
    command = [sys.executable, "-m", "tests.plantml.killed_run", *args]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _kill_when_it_says(child: subprocess.Popen, line: str) -> None:
    """Wait for ``line`` on the child's stdout, then SIGKILL it."""
    try:
        for said in child.stdout:
            if said.strip() == line:
                break
        else:
            pytest.fail(f"the child exited before saying {line!r}: {child.stderr.read()[-2000:]}")
        child.send_signal(signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        child.kill()
        child.stdout.close()
        child.stderr.close()


@pytest.fixture(scope="module")
def whole_run(image_tree, tmp_path_factory):
    output = tmp_path_factory.mktemp("uninterrupted")
    return train(resolve_config({**OPTIONS, "data": image_tree, "output": output})), output


def test_a_run_killed_mid_epoch_resumes_from_last_pt_across_the_phase_boundary(whole_run, image_tree, tmp_path):
    # killed in the hires epoch, after the fine-tune -> hires boundary where the input size changes; the
    # head -> fine-tune boundary is crossed by test_run.py's resume test
    whole, whole_dir = whole_run
    killed_in = 3
    options = {**OPTIONS, "data": str(image_tree), "output": str(tmp_path)}
    _kill_when_it_says(_child("train", json.dumps(options), str(killed_in)), "mid-epoch")
    saved = load_checkpoint(tmp_path / "last.pt")
    assert (saved["epoch"], saved["phase_index"], saved["phase_done"]) == (killed_in - 1, killed_in - 2, True)
    resumed = train(resolve_config({**options, "resume": tmp_path / "last.pt"}))
    assert [row["phase"] for row in resumed.history] == ["head", "finetune", "hires"]
    assert _measured(resumed.history) == _measured(whole.history)
    expected, actual = load_checkpoint(whole_dir / "last.pt"), load_checkpoint(tmp_path / "last.pt")
    assert actual["spec"]["input_size"] == 40
    assert expected["model_ema"] is not None, "the run keeps an EMA: its restoring is part of the claim"
    for key in ("model", "model_ema", "optimizer", "lr_scheduler", "sampler"):
        _assert_identical(expected[key], actual[key], key)
    _assert_identical(
        load_checkpoint(whole_dir / "best.pt")["model"], load_checkpoint(tmp_path / "best.pt")["model"], "best.pt"
    )


def _measured(history: list[dict]) -> list[dict]:
    """Return the history rows without their wall-clock figures (the only part a resume may change)."""
    return [{k: v for k, v in row.items() if k not in ("img_s", "seconds")} for row in history]


def _assert_identical(expected, actual, where: str) -> None:
    """Assert two nested state dicts (tensors, lists, numbers) are equal, naming the first entry that differs."""
    if isinstance(expected, torch.Tensor):
        assert isinstance(actual, torch.Tensor) and torch.equal(expected, actual), where
    elif isinstance(expected, dict):
        assert isinstance(actual, dict) and expected.keys() == actual.keys(), where
        for key in expected:
            _assert_identical(expected[key], actual[key], f"{where}.{key}")
    elif isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)) and len(expected) == len(actual), where
        for index, (left, right) in enumerate(zip(expected, actual)):
            _assert_identical(left, right, f"{where}[{index}]")
    else:
        assert expected == actual, f"{where}: {expected!r} != {actual!r}"


def _saves_in_flight(folder: Path) -> list[Path]:
    """Return the temporary files holding written bytes (a save renames its file away at any moment)."""
    found = []
    for path in folder.glob("*.tmp"):
        try:
            if path.stat().st_size > 0:
                found.append(path)
        except FileNotFoundError:
            pass
    return found


def _kill_during_a_save(path: Path) -> bool:
    """Start a child saving to ``path`` in a loop, SIGKILL it once a save is writing; return whether it still was."""
    child = _child("save", str(path))
    try:
        assert child.stdout.readline().strip() == "saved", child.stderr.read()[-2000:]
        deadline = time.monotonic() + 60
        while not _saves_in_flight(path.parent):  # the next save has begun writing
            assert time.monotonic() < deadline, "no save was ever seen in flight"
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait(timeout=30) == -signal.SIGKILL
    finally:
        child.kill()
        child.stdout.close()
        child.stderr.close()
    return bool(_saves_in_flight(path.parent))


def test_a_kill_mid_save_leaves_the_previous_last_pt_whole(tmp_path):
    path = tmp_path / "last.pt"
    # on a loaded machine the save may finish between seeing it and the kill: try again (rarely needed)
    assert any(_kill_during_a_save(path) for _ in range(5)), "every kill landed between saves, not during one"
    payload = load_checkpoint(path)  # raises CheckpointError on a truncated file
    assert torch.equal(payload["model"]["weight"], torch.full((SIDE, SIDE), float(payload["count"])))
