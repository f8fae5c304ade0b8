"""How sure an answer is, in words and whole percentages, from the model's calibrated probability.

The probabilities are calibrated (a model version's ECE is measured on held-out photos), so the words
read as frequencies: of the answers called "very likely", about nine in ten or more are right.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

# The lowest calibrated probability each word is used from; below POSSIBLY it is "unlikely".
VERY_LIKELY = 0.90  # right about 9 times in 10, or more
LIKELY = 0.60  # right more often than not, clearly
POSSIBLY = 0.25  # a real chance, but as likely wrong as right


@dataclass(frozen=True)
class Certainty:
    """One step of the scale: a stable ``key`` for programs and the ``words`` people read."""

    key: str
    words: str | Promise

    def __str__(self) -> str:
        return str(self.words)


SCALE = (
    (VERY_LIKELY, Certainty("very_likely", _("very likely"))),
    (LIKELY, Certainty("likely", _("likely"))),
    (POSSIBLY, Certainty("possibly", _("possibly"))),
    (0.0, Certainty("unlikely", _("unlikely"))),
)
KEYS = [certainty.key for _, certainty in SCALE]


def certainty_of(probability: float) -> Certainty:
    """Return the words for a calibrated probability (0-1), by the thresholds above."""
    return next(certainty for lowest, certainty in SCALE if probability >= lowest)


def whole_percent(probability: float) -> int:
    """Return the probability as a whole percentage, halves rounded up (0.655 -> 66, never 65.5)."""
    return int(math.floor(probability * 100 + 0.5))


def shown_candidates(candidates: Iterable[Any]) -> list[Any]:
    """Return the ranked candidates worth listing: the best one always, the others only when they reach 1%."""
    candidates = list(candidates)
    return candidates[:1] + [c for c in candidates[1:] if whole_percent(c.probability) >= 1]
