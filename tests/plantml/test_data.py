"""Image folders, splits and datasets (plantml/data.py)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
import torch

from plantml.data import ImageDataset, build_loader, load_display_names, resolve_splits, scan_image_folder
from plantml.transforms import eval_transform
from tests.image_trees import make_image_tree


def test_scan_lists_classes_sorted_with_labels(image_tree):
    samples, class_names, skipped = scan_image_folder(image_tree)
    assert class_names == ["bellis", "rosa", "viola"]
    assert [sum(1 for _, y in samples if y == k) for k in range(3)] == [12, 8, 6]
    assert skipped == []


def test_empty_and_non_image_files_are_left_out_of_the_scan(tmp_path, caplog):
    root = make_image_tree(tmp_path, {"a": 3, "b": 3})
    (root / "a" / "empty.jpg").write_bytes(b"")
    (root / "a" / "notes.txt").write_text("not an image")
    with caplog.at_level(logging.WARNING):
        samples, _, skipped = scan_image_folder(root)
    assert len(samples) == 6
    assert [p.name for p, _ in skipped] == ["empty.jpg"]
    assert "empty.jpg" in caplog.text


def test_a_broken_image_is_found_when_loaded_and_counted(tmp_path):
    root = make_image_tree(tmp_path, {"a": 3, "b": 3})
    (root / "b" / "broken.jpg").write_bytes((root / "b" / "b_000.jpg").read_bytes()[:20])
    samples, _, _ = scan_image_folder(root)  # the scan does not open files
    broken = next(i for i, (p, _) in enumerate(samples) if p.name == "broken.jpg")
    dataset = ImageDataset(samples, eval_transform(32))
    image, label = dataset[broken]
    assert label == 1 and image.shape == (3, 32, 32)
    assert [p.name for p, _ in dataset.bad_files()] == ["broken.jpg"]


def test_evaluation_datasets_mark_a_broken_image_instead_of_replacing_it(tmp_path):
    root = make_image_tree(tmp_path, {"a": 2})
    (root / "a" / "broken.jpg").write_bytes(b"GIF89a not really")
    samples, _, _ = scan_image_folder(root)
    dataset = ImageDataset(samples, eval_transform(32), replace_bad=False)
    labels = [dataset[i][1] for i in range(len(dataset))]
    assert labels == [0, 0, -1]


def test_bad_files_found_in_loader_workers_are_seen_by_the_parent(tmp_path):
    root = make_image_tree(tmp_path, {"a": 4})
    (root / "a" / "broken.jpg").write_bytes(b"not a jpeg")
    samples, _, _ = scan_image_folder(root)
    dataset = ImageDataset(samples, eval_transform(32), replace_bad=False)
    batches = list(build_loader(dataset, batch_size=2, workers=2))
    assert sum(int((labels == -1).sum()) for _, labels in batches) == 1
    assert [p.name for p, _ in dataset.bad_files()] == ["broken.jpg"]


def test_a_large_jpeg_is_decoded_at_a_reduced_scale_no_smaller_than_the_draft_size(tmp_path):
    from PIL import Image

    path = tmp_path / "big.jpg"
    Image.new("RGB", (1600, 1200), (10, 200, 30)).save(path)
    full = ImageDataset([(path, 0)]).load(0)
    drafted = ImageDataset([(path, 0)], draft_size=256).load(0)
    assert full.size == (1600, 1200)
    assert drafted.size == (400, 300)  # 1/4 scale: the shorter side stays >= 256


def test_workers_default_to_the_cores_bounded():
    from plantml.data import MAX_DEFAULT_WORKERS, resolve_workers

    assert 1 <= resolve_workers(None) <= MAX_DEFAULT_WORKERS
    assert resolve_workers(0) == 0


def test_an_image_unreadable_at_load_time_is_replaced_by_one_of_its_class(tmp_path, caplog):
    root = make_image_tree(tmp_path, {"a": 2, "b": 2})
    samples, _, _ = scan_image_folder(root)
    bad = samples[0][0]
    bad.write_bytes(bad.read_bytes()[: bad.stat().st_size // 3])  # truncated after the scan
    dataset = ImageDataset(samples, eval_transform(32))
    with caplog.at_level(logging.WARNING):
        image, label = dataset[0]
    assert label == samples[0][1] and image.shape == (3, 32, 32)
    assert "skipping unreadable" in caplog.text


def test_dataset_exposes_targets_and_returns_tensors(image_tree):
    samples, _, _ = scan_image_folder(image_tree)
    dataset = ImageDataset(samples, eval_transform(32))
    assert dataset.targets == [y for _, y in samples]
    image, label = dataset[5]
    assert isinstance(image, torch.Tensor) and label == samples[5][1]


def test_train_val_test_folders_are_used_when_present(split_tree):
    splits = resolve_splits(split_tree)
    assert (len(splits.train), len(splits.val), len(splits.test)) == (24, 9, 9)
    assert all("/val/" in str(p) for p, _ in splits.val)


def test_a_flat_folder_gets_a_stratified_split_saved_and_reused(image_tree, tmp_path):
    split_file = tmp_path / "split.json"
    first = resolve_splits(image_tree, seed=3, split_file=split_file)
    assert split_file.is_file()
    assert sum(1 for _, y in first.val if y == 0) == 2  # 15% of 12, per class
    assert not set(first.train) & set(first.val) | set(first.train) & set(first.test)
    again = resolve_splits(image_tree, seed=99, split_file=split_file)  # the saved split wins over the seed
    assert again.train == first.train and again.test == first.test


def test_the_split_depends_on_the_seed(image_tree):
    assert resolve_splits(image_tree, seed=1).val != resolve_splits(image_tree, seed=2).val


def test_display_names_fall_back_to_folder_names(tmp_path):
    path = tmp_path / "names.json"
    path.write_text(json.dumps({"rosa": "Rosa canina"}))
    assert load_display_names(path, ["bellis", "rosa"]) == ["bellis", "Rosa canina"]
    assert load_display_names(None, ["bellis"]) == ["bellis"]


def test_a_bad_display_names_file_gives_a_clear_error(tmp_path):
    path = tmp_path / "names.json"
    path.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_display_names(path, ["a"])
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="folder name -> display name"):
        load_display_names(path, ["a"])


def test_loader_batches_the_dataset(image_tree):
    samples, _, _ = scan_image_folder(image_tree)
    loader = build_loader(ImageDataset(samples, eval_transform(32)), batch_size=4, workers=0, device="cpu")
    images, labels = next(iter(loader))
    assert images.shape == (4, 3, 32, 32) and labels.shape == (4,)
    assert not loader.pin_memory


def test_held_out_classes_leave_training_and_come_back_as_unknown_photos():
    from plantml.datasets.splits import Splits

    splits = Splits(
        train=[(Path("a1"), 0), (Path("b1"), 1), (Path("c1"), 2)],
        val=[(Path("a2"), 0), (Path("b2"), 1)],
        test=[(Path("b3"), 1), (Path("c3"), 2)],
        class_names=["a", "b", "c"],
    )
    kept, unknown = splits.hold_out(["b"])
    assert kept.class_names == ["a", "c"]
    assert kept.train == [(Path("a1"), 0), (Path("c1"), 1)] and kept.test == [(Path("c3"), 1)]
    assert unknown == [Path("b2"), Path("b3")]


def test_holding_out_a_class_the_data_lacks_names_it():
    from plantml.datasets.splits import Splits

    splits = Splits(train=[], val=[], test=[], class_names=["a", "b", "c"])
    with pytest.raises(ValueError, match="does not have: rosa"):
        splits.hold_out(["rosa"])
