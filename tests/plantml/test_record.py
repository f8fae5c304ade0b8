"""The one metrics record (plantml/evaluation/record.py) that train and evaluate write and `models` reads."""

from __future__ import annotations

import numpy as np

from plantml.evaluation.metrics import compute_metrics
from plantml.evaluation.record import MetricsRecord


def test_the_record_of_computed_metrics_holds_their_headline_figures():
    # six classes, so top-5 is not 1 by construction: the third photo's class (0) is the least probable
    targets = np.array([0, 1, 0])
    probs = np.array(
        [
            [0.5, 0.1, 0.1, 0.1, 0.1, 0.1],
            [0.1, 0.5, 0.1, 0.1, 0.1, 0.1],
            [0.0, 0.2, 0.2, 0.2, 0.2, 0.2],
        ]
    )
    record = MetricsRecord.from_metrics(compute_metrics(targets, probs, list("abcdef")), "test", epoch=4, kept="ema")
    assert (record.split, record.num_samples, record.epoch, record.kept) == ("test", 3, 4, "ema")
    assert record.top1 == 2 / 3 and record.macro_top1 == 0.75 and record.top5 == 2 / 3


def test_the_record_reads_back_what_it_writes():
    record = MetricsRecord(split="val", num_samples=10, top1=0.5, macro_top1=0.4, epoch=2, kept="raw")
    assert MetricsRecord.from_dict(record.to_dict()) == record


def test_figures_a_record_lacks_read_as_none():
    record = MetricsRecord.from_dict({"top1": 0.25})
    assert record.top1 == 0.25 and record.split is None and record.macro_f1 is None
    assert MetricsRecord.from_dict(None) == MetricsRecord()
