"""The reliability diagram: accuracy against confidence per bin, before and after temperature scaling."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from plantml.open_set import ECE_BINS, expected_calibration_error, reliability_bins, softmax

from .figures import plt
from .figures import save_figure as _save


def plot_reliability(targets: np.ndarray, logits: np.ndarray, temperature: float, path: Path) -> Path:
    """Draw accuracy vs confidence (15 bins) for the raw and the calibrated softmax, with each ECE; return ``path``."""
    figure, axis = plt.subplots(figsize=(5.5, 5))
    axis.plot([0, 1], [0, 1], color="grey", linestyle="--", linewidth=1, label="perfectly calibrated")
    for label, t, style in (("raw softmax", 1.0, "o-"), (f"calibrated (T = {temperature:.2f})", temperature, "s-")):
        probs = softmax(logits, t)
        rows = [row for row in reliability_bins(probs, targets, ECE_BINS) if row["count"]]
        ece = expected_calibration_error(probs, targets, ECE_BINS)
        axis.plot(
            [row["confidence"] for row in rows],
            [row["accuracy"] for row in rows],
            style,
            markersize=4,
            label=f"{label}: ECE {ece:.3f}",
        )
    axis.set(xlim=(0, 1), ylim=(0, 1), xlabel="confidence (top probability)", ylabel="accuracy")
    axis.set_title(f"Reliability on {len(targets)} photos ({ECE_BINS} bins)")
    axis.legend(loc="upper left", fontsize=8)
    axis.grid(alpha=0.3)
    return _save(figure, path)
