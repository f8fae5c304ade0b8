"""The folder scan and its cache (plantml/datasets/scan.py)."""

from __future__ import annotations

import os

from plantml.datasets.scan import CACHE_NAME, ScanCache, default_cache_file, list_images
from tests.image_trees import make_image_tree


def test_a_second_scan_reads_the_cache_instead_of_the_folders(tmp_path):
    root = make_image_tree(tmp_path / "data", {"a": 3, "b": 2})
    first = ScanCache.beside(root)
    listed = [list_images(root / name, first)[0] for name in ("a", "b")]
    first.save()
    second = ScanCache.beside(root)
    again = [list_images(root / name, second)[0] for name in ("a", "b")]
    assert (root / CACHE_NAME).is_file()
    assert again == listed and (second.hits, second.misses) == (2, 0)


def test_a_folder_that_changed_is_listed_again(tmp_path):
    root = make_image_tree(tmp_path / "data", {"a": 3, "b": 2})
    cache = ScanCache.beside(root)
    list_images(root / "a", cache)
    list_images(root / "b", cache)
    cache.save()
    (root / "b" / "b_000.jpg").unlink()
    os.utime(root / "b", ns=(1, 1))  # a distinct mtime even on coarse-clock file systems
    cache = ScanCache.beside(root)
    images, _ = list_images(root / "b", cache)
    list_images(root / "a", cache)
    assert [p.name for p in images] == ["b_001.jpg"] and (cache.hits, cache.misses) == (1, 1)


def test_a_read_only_data_folder_gets_its_cache_in_the_user_cache(tmp_path, monkeypatch):
    root = make_image_tree(tmp_path / "data", {"a": 1})
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    root.chmod(0o555)
    try:
        path = default_cache_file(root)
    finally:
        root.chmod(0o755)
    assert path.is_relative_to(tmp_path / "cache")


def test_a_damaged_cache_is_ignored(tmp_path):
    root = make_image_tree(tmp_path / "data", {"a": 2})
    (root / CACHE_NAME).write_text("{not json")
    images, _ = list_images(root / "a", ScanCache.beside(root))
    assert len(images) == 2


def test_images_in_sub_folders_of_a_class_are_listed(tmp_path):
    root = make_image_tree(tmp_path / "data", {"a": 2})
    make_image_tree(root / "a", {"nested": 1})
    images, _ = list_images(root / "a")
    assert [p.name for p in images] == ["a_000.jpg", "a_001.jpg", "nested_000.jpg"]
