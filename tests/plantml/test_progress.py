"""Progress over batches: a bar on a terminal, a line now and then when the output is a file."""

from __future__ import annotations

import io

from tqdm import tqdm

from plantml.progress import ProgressLines, progress


class FakeClock:
    """A clock that moves 10 s per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 10.0
        return self.now


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_file_gets_progress_lines_not_a_bar():
    assert isinstance(progress(range(3), "train", stream=io.StringIO()), ProgressLines)


def test_a_terminal_gets_the_live_bar():
    assert isinstance(progress(range(3), "train", stream=Terminal()), tqdm)


def test_lines_come_at_most_every_interval_and_once_at_the_end(caplog):
    lines = ProgressLines(list(range(10)), "epoch 1 [full]", every_s=30.0, clock=FakeClock())
    with caplog.at_level("INFO", logger="plantml.progress"):
        assert list(lines) == list(range(10))
    messages = [record.getMessage() for record in caplog.records]
    assert len(messages) == 4  # after 3, 6 and 9 batches (30 s each) and the last one
    assert messages[-1].startswith("epoch 1 [full]: 10/10 batches")


def test_a_line_carries_the_postfix_like_tqdm(caplog):
    lines = ProgressLines([1, 2], "train", every_s=1e9, clock=FakeClock())
    with caplog.at_level("INFO", logger="plantml.progress"):
        for _ in lines:
            lines.set_postfix(loss="0.4123")
    assert caplog.records[-1].getMessage().endswith("loss 0.4123")
