"""Two models' metrics on the same images, side by side with per-class changes; no Django here."""

from __future__ import annotations

OVERALL = ("top1", "top5", "macro_top1", "macro_top5", "macro_f1", "macro_precision", "macro_recall")


def compare_metrics(a: dict, b: dict) -> dict:
    """Return {"overall": [(metric, a, b, b - a)], "per_class": [(class, support, acc a, acc b, change)]}.

    Per-class rows cover the classes with images in either evaluation, ordered by change (worst first);
    a value is None where a model has no figure (e.g. a class it does not know).
    """
    overall = []
    for key in OVERALL:
        value_a, value_b = a.get(key), b.get(key)
        if value_a is None and value_b is None:
            continue
        overall.append((key, value_a, value_b, _delta(value_a, value_b)))
    auc_a, auc_b = (a.get("roc_auc") or {}).get("macro"), (b.get("roc_auc") or {}).get("macro")
    overall.append(("macro_auc", auc_a, auc_b, _delta(auc_a, auc_b)))
    rows_a = {row["name"]: row for row in a.get("per_class", []) if row.get("support")}
    rows_b = {row["name"]: row for row in b.get("per_class", []) if row.get("support")}
    per_class = []
    for name in sorted(set(rows_a) | set(rows_b)):
        row_a, row_b = rows_a.get(name, {}), rows_b.get(name, {})
        support = row_a.get("support") or row_b.get("support") or 0
        acc_a, acc_b = row_a.get("accuracy"), row_b.get("accuracy")
        per_class.append(
            (
                row_a.get("display_name") or row_b.get("display_name") or name,
                support,
                acc_a,
                acc_b,
                _delta(acc_a, acc_b),
            )
        )
    per_class.sort(key=lambda row: (row[4] is None, row[4] if row[4] is not None else 0.0, row[0]))
    return {"overall": overall, "per_class": per_class}


def _delta(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else b - a


def _cell(value: float | None, signed: bool = False) -> str:
    if value is None:
        return "-"
    return f"{value:+.4f}" if signed else f"{value:.4f}"


def format_comparison(name_a: str, name_b: str, comparison: dict, rows: int = 20) -> str:
    """Return a plain-text table: overall metrics of A and B and their change, then the per-class changes."""
    width = max(len(name_a), len(name_b), 8)
    lines = [f"{'metric':<16}  {name_a:>{width}}  {name_b:>{width}}  {'change':>8}"]
    for key, value_a, value_b, delta in comparison["overall"]:
        lines.append(f"{key:<16}  {_cell(value_a):>{width}}  {_cell(value_b):>{width}}  {_cell(delta, True):>8}")
    per_class = comparison["per_class"]
    shown = per_class[:rows]
    title = "per-class top-1, largest drops first"
    if len(shown) < len(per_class):
        title += f" ({len(shown)} of {len(per_class)} classes)"
    names = [row[0] for row in shown]
    name_width = max(len(name) for name in ["class", *names])
    lines += ["", title, f"{'class':<{name_width}}  {'n':>5}  {name_a:>{width}}  {name_b:>{width}}  {'change':>8}"]
    for name, support, acc_a, acc_b, delta in shown:
        lines.append(
            f"{name:<{name_width}}  {support:>5}  {_cell(acc_a):>{width}}  {_cell(acc_b):>{width}}  {_cell(delta, True):>8}"
        )
    return "\n".join(lines)
