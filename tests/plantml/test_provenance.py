"""provenance.csv (plantml/datasets/provenance.py): photos found by path, shown only where their licence allows."""

from __future__ import annotations

from plantml.datasets.provenance import load_provenance, may_display, write_provenance


def test_rows_are_found_by_the_photos_resolved_path(tmp_path):
    write_provenance([{"file": "train/rosa/1.jpg", "creator": "Ann Lee", "licence": "CC BY", "extra": "x"}], tmp_path)
    rows = load_provenance([tmp_path, tmp_path / "elsewhere"])
    assert rows[(tmp_path / "train" / "rosa" / "1.jpg").resolve()]["creator"] == "Ann Lee"


def test_users_feedback_photos_are_never_shown_as_references(tmp_path):
    (tmp_path / "provenance.csv").write_text("file,class,identification_id\nrosa/identification1-photo1.jpg,rosa,1\n")
    (row,) = load_provenance([tmp_path]).values()
    assert not may_display(row)


def test_open_licences_may_be_shown_and_no_derivatives_may_not():
    assert may_display({"licence": "CC BY-NC"}) and may_display({"licence": "CC0"})
    assert not may_display({"licence": "CC BY-ND"}) and not may_display({"licence": "unknown"})
