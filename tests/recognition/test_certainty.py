"""How sure an answer is in words and whole percentages, and which candidates are worth listing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.utils import translation

from recognition.certainty import LIKELY, POSSIBLY, VERY_LIKELY, certainty_of, shown_candidates, whole_percent


@pytest.mark.parametrize(
    ("probability", "key"),
    [
        (1.0, "very_likely"),
        (VERY_LIKELY, "very_likely"),
        (VERY_LIKELY - 0.001, "likely"),
        (LIKELY, "likely"),
        (LIKELY - 0.001, "possibly"),
        (POSSIBLY, "possibly"),
        (POSSIBLY - 0.001, "unlikely"),
        (0.0, "unlikely"),
    ],
)
def test_each_probability_gets_the_words_of_the_highest_threshold_it_reaches(probability, key):
    assert certainty_of(probability).key == key


def test_the_thresholds_rise_from_possibly_to_very_likely():
    assert 0 < POSSIBLY < LIKELY < VERY_LIKELY < 1


def test_the_words_are_translated_to_simplified_chinese():
    with translation.override("zh-hans"):
        words = [str(certainty_of(p)) for p in (0.95, 0.7, 0.3, 0.1)]
    assert words == ["很可能", "较可能", "有可能", "不太可能"]


@pytest.mark.parametrize(("probability", "percent"), [(0.655, 66), (0.6549, 65), (0.005, 1), (0.0049, 0), (1.0, 100)])
def test_percentages_are_whole_numbers_with_halves_rounded_up(probability, percent):
    assert whole_percent(probability) == percent


@dataclass
class _Candidate:
    label: str
    probability: float


def test_candidates_below_one_percent_are_dropped_but_the_best_is_always_kept():
    ranked = [_Candidate("a", 0.004), _Candidate("b", 0.0049), _Candidate("c", 0.005)]
    assert [c.label for c in shown_candidates(ranked)] == ["a", "c"]
    assert shown_candidates([]) == []
