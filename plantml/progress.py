"""Progress over batches: a live bar on a terminal, a plain line now and then in logs, CI and nohup files."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from tqdm import tqdm

logger = logging.getLogger(__name__)

LINE_EVERY_S = 30.0


class ProgressLines:
    """Iterate ``iterable``, logging "description: done/total batches, rate, postfix" at most every ``every_s``."""

    def __init__(
        self,
        iterable: Iterable,
        description: str,
        every_s: float = LINE_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.iterable, self.description, self.every_s, self.clock = iterable, description, every_s, clock
        self.postfix: dict[str, Any] = {}

    def set_postfix(self, **values: Any) -> None:
        """Keep ``values`` (loss, lr, ...) for the next line, like tqdm's ``set_postfix``."""
        self.postfix = values

    def __iter__(self) -> Iterator:
        total = len(self.iterable) if hasattr(self.iterable, "__len__") else None
        started = last = self.clock()
        done = 0
        for item in self.iterable:
            yield item
            done += 1
            now = self.clock()
            if now - last >= self.every_s:
                self._line(done, total, now - started)
                last = now
        if done:
            self._line(done, total, self.clock() - started)

    def _line(self, done: int, total: int | None, seconds: float) -> None:
        of = f"/{total}" if total else ""
        extra = "".join(f", {key} {value}" for key, value in self.postfix.items())
        rate = done / seconds if seconds > 0 else 0.0
        logger.info("%s: %d%s batches, %.1f batch/s%s", self.description, done, of, rate, extra)


def progress(
    iterable: Iterable, description: str, *, enabled: bool = True, stream: IO[str] | None = None
) -> tqdm | ProgressLines:
    """Return ``iterable`` wrapped in a tqdm bar when ``stream`` (stderr) is a terminal, else in ProgressLines."""
    stream = stream or sys.stderr
    if enabled and not stream.isatty():
        return ProgressLines(iterable, description)
    return tqdm(iterable, desc=description, unit="batch", leave=False, dynamic_ncols=True, disable=not enabled)
