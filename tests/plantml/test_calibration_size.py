"""Calibrating on few val photos says how rough the threshold is, and what to do about it."""

from __future__ import annotations

import logging

import numpy as np

from plantml.evaluation.calibration import MIN_RELIABLE, fit_from_outputs
from plantml.evaluation.runner import Outputs


def _outputs(photos: int) -> Outputs:
    rng = np.random.default_rng(0)
    return Outputs(targets=np.arange(photos) % 3, logits=rng.normal(size=(photos, 3)), features=None)


def test_thirty_val_photos_are_warned_about_with_the_rank_the_threshold_rests_on(caplog):
    with caplog.at_level(logging.WARNING, logger="plantml.evaluation.calibration"):
        fit_from_outputs(_outputs(30))
    [record] = caplog.records
    assert "only 30 val photos" in record.message and "2nd lowest" in record.message
    assert f"({MIN_RELIABLE} or more)" in record.message


def test_enough_val_photos_calibrate_without_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger="plantml.evaluation.calibration"):
        fit_from_outputs(_outputs(MIN_RELIABLE))
    assert caplog.records == []
