"""Two evaluations side by side (plantml.evaluation.compare)."""

from __future__ import annotations

import pytest

from plantml.evaluation.compare import compare_metrics, format_comparison


def metrics(top1: float, per_class: dict[str, tuple[int, float | None]]) -> dict:
    return {
        "top1": top1,
        "top5": 1.0,
        "macro_top1": top1,
        "macro_f1": top1 - 0.1,
        "roc_auc": {"macro": 0.9},
        "per_class": [{"name": n, "support": s, "accuracy": a} for n, (s, a) in per_class.items()],
    }


def test_overall_rows_carry_both_values_and_the_change():
    comparison = compare_metrics(metrics(0.5, {}), metrics(0.75, {}))
    rows = {key: rest for key, *rest in comparison["overall"]}
    assert rows["top1"] == [0.5, 0.75, pytest.approx(0.25)]
    assert rows["macro_auc"] == [0.9, 0.9, 0.0]


def test_per_class_rows_put_the_largest_drop_first_and_mark_unknown_classes():
    a = metrics(0.5, {"rosa": (4, 1.0), "bellis": (4, 0.5), "tulipa": (0, None)})
    b = metrics(0.6, {"rosa": (4, 0.25), "bellis": (4, 0.75), "tulipa": (2, 0.5)})
    rows = compare_metrics(a, b)["per_class"]
    assert [row[0] for row in rows] == ["rosa", "bellis", "tulipa"]
    assert rows[0][4] == pytest.approx(-0.75)
    assert rows[2] == ("tulipa", 2, None, 0.5, None)


def test_the_table_names_both_models_and_signs_the_changes():
    text = format_comparison(
        "old", "new", compare_metrics(metrics(0.5, {"rosa": (4, 1.0)}), metrics(0.6, {"rosa": (4, 0.5)}))
    )
    header, top1 = text.splitlines()[0], text.splitlines()[1]
    assert "old" in header and "new" in header
    assert top1.split() == ["top1", "0.5000", "0.6000", "+0.1000"]
    assert "-0.5000" in text.splitlines()[-1]
