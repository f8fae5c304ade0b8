"""Checkpoint file facts that need no PyTorch, so that the web processes never import it."""

from __future__ import annotations

import hashlib
from pathlib import Path


class CheckpointError(Exception):
    """A checkpoint file that cannot be used; the message says why and what to do."""


def sha256_file(path: str | Path, chunk: int = 1 << 20) -> str:
    """Return the hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
