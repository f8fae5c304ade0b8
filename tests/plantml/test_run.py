"""The training service train(config) (plantml/training/run.py): outputs, phases, early stopping, exact resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from plantml.checkpoint import load_checkpoint
from plantml.data import add_extra_training_data, resolve_splits
from plantml.predictor import Predictor
from plantml.training import recipes
from plantml.training.config import resolve_config
from plantml.training.run import train

pytestmark = pytest.mark.slow


def _config(data, output, **overrides):
    return resolve_config(
        recipes.tiny(data=data, output=output, **{"head_epochs": 1, "mixup": 0.4, "seed": 3, **overrides})
    )


@pytest.fixture(scope="module")
def run_dir(image_tree, tmp_path_factory):
    output = tmp_path_factory.mktemp("run")
    train(_config(image_tree, output, hires_epochs=1, hires_size=40))
    return output


def test_a_run_writes_checkpoints_metrics_config_and_plots(run_dir):
    names = {p.name for p in run_dir.iterdir()}
    assert {"best.pt", "last.pt", "metrics.json", "config.yaml", "split.json"} <= names
    assert {"training_curves.png", "confusion_matrix.png", "per_class_accuracy.png", "roc_curves.png"} <= names


def test_metrics_json_has_one_row_per_epoch_through_the_phases(run_dir):
    report = json.loads((run_dir / "metrics.json").read_text())
    assert [row["phase"] for row in report["history"]] == ["head", "finetune", "hires"]


def test_the_summary_is_best_pts_top1_on_the_test_split(run_dir, image_tree):
    report = json.loads((run_dir / "metrics.json").read_text())
    test = json.loads((run_dir / "split.json").read_text())["test"]
    predictor = Predictor.from_checkpoint(run_dir / "best.pt")
    named = [predictor.predict([predictor.open_image(image_tree / path)], top_k=1)[0].label for path, _ in test]
    correct = sum(name == predictor.spec.class_names[label] for name, (_, label) in zip(named, test))
    assert report["summary"]["split"] == "test" and report["summary"]["num_samples"] == len(test)
    assert report["summary"]["top1"] == pytest.approx(correct / len(test))


def test_best_checkpoint_describes_itself(run_dir):
    payload = load_checkpoint(run_dir / "best.pt")
    assert payload["spec"]["class_names"] == ["bellis", "rosa", "viola"]
    assert payload["config"]["model"] == "convnextv2_atto"


def test_best_checkpoint_is_the_last_epoch_that_improved_with_its_kept_weights(run_dir):
    history = json.loads((run_dir / "metrics.json").read_text())["history"]
    best = [row for row in history if row["is_best"]][-1]
    payload = load_checkpoint(run_dir / "best.pt")
    assert (payload["phase"], payload["metrics"]["epoch"]) == (best["phase"], best["epoch"])
    assert payload["spec"]["input_size"] == {"head": 32, "finetune": 32, "hires": 40}[best["phase"]]
    kept = "ema" if best.get("val_macro_top1_ema", -1) > best["val_macro_top1"] else "raw"
    assert (payload["metrics"]["split"], payload["metrics"]["kept"]) == ("val", kept)
    assert payload["metrics"]["macro_top1"] == pytest.approx(best["score"])


def test_early_stopping_ends_a_phase_after_patience(image_tree, tmp_path):
    # a zero learning rate cannot improve the score, so the phase stops after min_epochs
    result = train(
        _config(
            image_tree, tmp_path, head_epochs=0, epochs=6, lr=1e-12, head_lr=1e-12, patience=1, min_epochs=2, ema=False
        )
    )
    assert len(result.history) == 2


class Interrupted(Exception):
    pass


def _interrupt_after(epochs: int):
    def callback(row: dict) -> None:
        if row["epoch"] == epochs:
            raise Interrupted

    return callback


@pytest.fixture(scope="module")
def whole_run(image_tree, tmp_path_factory):
    output = tmp_path_factory.mktemp("whole")
    return train(_config(image_tree, output, epochs=2)), output


@pytest.mark.parametrize("stop_after", [1, 2], ids=["at-a-phase-boundary", "inside-a-phase"])
def test_resume_continues_exactly_like_an_uninterrupted_run(whole_run, image_tree, tmp_path, stop_after):
    whole, whole_dir = whole_run
    with pytest.raises(Interrupted):  # head epoch 1, fine-tune epochs 2 and 3
        train(_config(image_tree, tmp_path / "cut", epochs=2), on_epoch_end=_interrupt_after(stop_after))
    resumed = train(_config(image_tree, tmp_path / "cut", epochs=2, resume=tmp_path / "cut" / "last.pt"))
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in whole.history]
    expected = load_checkpoint(whole_dir / "last.pt")
    actual = load_checkpoint(tmp_path / "cut" / "last.pt")
    for key, tensor in expected["model"].items():
        assert torch.equal(tensor, actual["model"][key]), key
    for key, tensor in expected["model_ema"]["module"].items():
        assert torch.equal(tensor, actual["model_ema"]["module"][key]), key
    assert actual["optimizer"]["state"].keys() == expected["optimizer"]["state"].keys()


def test_resume_refuses_a_checkpoint_without_training_state(run_dir, image_tree, tmp_path):
    from plantml.files import CheckpointError

    with pytest.raises(CheckpointError, match="resume from RUN_DIR/last.pt"):
        train(_config(image_tree, tmp_path, resume=run_dir / "best.pt"))


def test_reference_photos_come_only_from_the_data_sets_own_training_photos(image_tree, tmp_path):
    extra = tmp_path / "feedback"
    for name in ("rosa", "tulipa"):  # a class both have, and one only the users' feedback photos have
        (extra / name).mkdir(parents=True)
        for i in range(4):
            Image.new("RGB", (40, 40), (255, 255, 255)).save(extra / name / f"user_{i}.jpg")
    output = tmp_path / "run"
    train(_config(image_tree, output, extra_data=[extra], reference_photos=20, epochs=1, head_epochs=0))
    own = resolve_splits(image_tree, seed=3, val_fraction=0.15, test_fraction=0.15)
    classes = add_extra_training_data(own, [extra]).class_names
    references = output / "references"
    assert not (references / str(classes.index("tulipa"))).exists()
    rosa = sorted((references / str(classes.index("rosa"))).glob("*.jpg"))
    own_rosa = [path for path, _ in own.train if path.parent.name == "rosa"]
    assert len(rosa) == len(own_rosa)
    assert all(Image.open(p).convert("L").getextrema()[0] < 250 for p in rosa)  # none is a white feedback photo


def test_reference_photos_cover_each_kind_of_photo_in_a_class(tmp_path):
    rng = torch.Generator().manual_seed(0)
    data = tmp_path / "data"
    kinds = {
        "bellis": [("a_flower", (220, 40, 40), 14), ("b_leaf", (30, 60, 220), 6)],
        "rosa": [("a", (40, 200, 40), 12)],
    }
    for name, groups in kinds.items():
        (data / name).mkdir(parents=True)
        for prefix, colour, count in groups:
            for i in range(count):
                shade = tuple(int(c + torch.randint(-12, 13, (1,), generator=rng)) for c in colour)
                Image.new("RGB", (48, 48), shade).save(data / name / f"{prefix}_{i:02d}.jpg")
    output = tmp_path / "run"
    train(_config(data, output, reference_photos=2, epochs=1, head_epochs=0))
    train_split = [path for path, label in resolve_splits(data, seed=3, val_fraction=0.15, test_fraction=0.15).train]
    assert any(path.name.startswith("b_leaf") for path in train_split)  # the test needs a leaf photo to choose
    bluish = [
        Image.open(photo).convert("RGB").resize((1, 1)).getpixel((0, 0))[2] > 128
        for photo in sorted((output / "references" / "0").glob("*.jpg"))
    ]
    assert sorted(bluish) == [False, True]  # one flower and one leaf, although flowers are most of the class
    with np.load(output / "references" / "features.npz") as stored:
        assert stored["classes"].tolist() == [0, 0, 1, 1] and stored["numbers"].tolist() == [1, 2, 1, 2]
