"""Listing image files of large trees, with a cache keyed by each folder's path and mtime.

Files are not opened here: a file is checked when the loader reads it (see plantml.data.ImageDataset),
so listing 300k photos costs one ``scandir`` per folder, and a second run one ``stat`` per folder.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import stat
import tempfile
from pathlib import Path

logger = logging.getLogger(__name__)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".gif", ".tif", ".tiff"})
CACHE_NAME = ".plantml-scan.json"
CACHE_VERSION = 1


def is_image_name(name: str) -> bool:
    """Return whether a file name has an image suffix (case-insensitive) and is not hidden."""
    return not name.startswith(".") and os.path.splitext(name)[1].lower() in IMAGE_SUFFIXES


def default_cache_file(root: Path) -> Path:
    """Return where the scan cache of ``root`` lives: beside the data when writable, else in the user cache."""
    root = Path(root).resolve()
    # the mode bit too: root may write anywhere, but a folder marked read-only is shared and left alone
    if os.access(root, os.W_OK) and root.stat().st_mode & stat.S_IWUSR:
        return root / CACHE_NAME
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "plantml" / "scans"
    return base / f"{hashlib.sha1(str(root).encode()).hexdigest()[:16]}.json"


class ScanCache:
    """Image files (name, size) and sub-folders per folder, reused while the folder's mtime is unchanged."""

    def __init__(self, root: Path, cache_file: Path | None = None) -> None:
        """Use ``cache_file`` to keep the listing between runs; None keeps it in memory only."""
        self.root = os.path.abspath(root)
        self.cache_file = Path(cache_file) if cache_file is not None else None
        self.folders: dict[str, dict] = {}
        self.hits = self.misses = 0
        self._dirty = False
        self._read()

    @classmethod
    def beside(cls, root: Path) -> ScanCache:
        """Return the cache of ``root`` kept in its default file (see ``default_cache_file``)."""
        return cls(root, default_cache_file(root))

    def _read(self) -> None:
        if self.cache_file is None:
            return
        try:
            data = json.loads(self.cache_file.read_text())
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            logger.warning("ignoring the unreadable scan cache %s (%s)", self.cache_file, exc)
            return
        if data.get("version") == CACHE_VERSION and data.get("root") == self.root:
            self.folders = data.get("folders", {})

    def entry(self, folder: Path) -> dict:
        """Return {"files": sorted [name, size] of image files, "dirs": sorted sub-folder names} of ``folder``."""
        folder = Path(folder)
        try:
            mtime = folder.stat().st_mtime_ns
        except FileNotFoundError:
            return {"files": [], "dirs": []}
        key = os.path.relpath(os.path.abspath(folder), self.root)  # abspath: no system calls per folder
        entry = self.folders.get(key)
        if entry is not None and entry["mtime_ns"] == mtime:
            self.hits += 1
            return entry
        self.misses += 1
        files, dirs = [], []
        with os.scandir(folder) as entries:
            for e in entries:
                if e.name.startswith("."):
                    continue
                if e.is_dir():
                    dirs.append(e.name)
                elif is_image_name(e.name) and e.is_file():
                    files.append([e.name, e.stat().st_size])
        entry = {"mtime_ns": mtime, "files": sorted(files), "dirs": sorted(dirs)}
        self.folders[key] = entry
        self._dirty = True
        return entry

    def save(self) -> None:
        """Write the cache atomically when it changed; a cache that cannot be written only costs time."""
        if not self._dirty or self.cache_file is None:
            return
        payload = {"version": CACHE_VERSION, "root": self.root, "folders": self.folders}
        try:
            self.cache_file.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile("w", dir=self.cache_file.parent, suffix=".tmp", delete=False) as out:
                json.dump(payload, out, separators=(",", ":"))
            os.replace(out.name, self.cache_file)
            self._dirty = False
        except OSError as exc:
            logger.warning("could not write the scan cache %s (%s): the next run scans again", self.cache_file, exc)


def list_images(folder: Path, cache: ScanCache | None = None) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Return (non-empty image files, skipped (path, reason)) under ``folder`` and its sub-folders, sorted."""
    cache = cache if cache is not None else ScanCache(folder)
    folder = Path(folder)
    entry = cache.entry(folder)
    images = [folder / name for name, size in entry["files"] if size > 0]
    skipped = [(folder / name, "empty file") for name, size in entry["files"] if size == 0]
    for sub in entry["dirs"]:
        more, bad = list_images(folder / sub, cache)
        images += more
        skipped += bad
    return images, skipped
