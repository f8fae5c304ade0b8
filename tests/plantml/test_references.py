"""Reference photos (plantml/references.py): a few thumbnails per class, chosen the same way every time."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from plantml.references import (
    CANDIDATES_PER_REFERENCE,
    ReferenceFeatures,
    choose_references,
    cover,
    reference_candidates,
    reference_sources,
    save_reference_features,
    spread,
    write_reference_photos,
)


def samples_of(tree):
    folders = sorted(p for p in tree.iterdir() if p.is_dir())
    return [(path, label) for label, folder in enumerate(folders) for path in sorted(folder.iterdir())]


def test_each_class_gets_its_thumbnails_as_index_and_number(image_tree, tmp_path):
    written = write_reference_photos(samples_of(image_tree), 3, tmp_path / "refs", per_class=2, size=32)
    assert written == 6
    assert sorted(str(p.relative_to(tmp_path / "refs")) for p in (tmp_path / "refs").rglob("*.jpg")) == [
        "0/1.jpg",
        "0/2.jpg",
        "1/1.jpg",
        "1/2.jpg",
        "2/1.jpg",
        "2/2.jpg",
    ]
    assert Image.open(tmp_path / "refs" / "1" / "2.jpg").size == (32, 32)


def test_the_choice_is_the_same_on_every_run(image_tree, tmp_path):
    samples = samples_of(image_tree)
    write_reference_photos(samples, 3, tmp_path / "a", per_class=3)
    write_reference_photos(list(reversed(samples)), 3, tmp_path / "b", per_class=3)
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.jpg"))
    assert all((tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes() for f in files)


def test_the_choice_is_spread_over_the_class():
    assert spread([f"{i:02d}" for i in range(9)], 3)[:3] == ["00", "03", "06"]


def test_an_unreadable_photo_is_passed_over(image_tree, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    samples = [(broken, 0), *[(path, 0) for path, label in samples_of(image_tree) if label == 0][:2]]
    assert write_reference_photos(samples, 1, tmp_path / "refs", per_class=3) == 2


def test_a_photo_with_provenance_gets_its_author_and_licence_beside_it(image_tree, tmp_path):
    samples = [(path, 0) for path, label in samples_of(image_tree) if label == 0][:1]
    provenance = {samples[0][0].resolve(): {"creator": "Ann Lee", "licence": "CC BY", "url": "http://x/1.jpg"}}
    write_reference_photos(samples, 1, tmp_path / "refs", per_class=1, provenance=provenance)
    assert json.loads((tmp_path / "refs" / "0" / "1.json").read_text()) == {
        "creator": "Ann Lee",
        "licence": "CC BY",
        "url": "http://x/1.jpg",
    }


def test_a_photo_whose_licence_forbids_showing_it_is_not_a_reference(image_tree, tmp_path):
    first, second = [path for path, label in samples_of(image_tree) if label == 0][:2]
    provenance = {first.resolve(): {"licence": "CC BY-ND"}, second.resolve(): {"licence": "CC0", "creator": "B"}}
    assert (
        write_reference_photos([(first, 0), (second, 0)], 1, tmp_path / "refs", per_class=2, provenance=provenance) == 1
    )
    assert json.loads((tmp_path / "refs" / "0" / "1.json").read_text())["creator"] == "B"


def test_reference_photos_are_ranked_by_cosine_likeness_within_their_class(tmp_path):
    features = np.array([[1, 0, 0], [0, 1, 0], [0.6, 0.8, 0], [5, 5, 0], [0, 0, 1]], dtype=np.float32)
    save_reference_features(tmp_path, [0, 0, 0, 0, 1], [1, 2, 3, 4, 1], features)
    stored = ReferenceFeatures.load(tmp_path / "features.npz")
    assert stored.nearest(np.array([0.1, 1.0, 0.0]), 0, k=3) == [2, 3, 4]
    assert stored.nearest(np.array([2.0, 0.0, 0.0]), 0, k=2) == [1, 4]  # 4 is at 45 degrees, 3 at 53
    assert stored.nearest(np.array([2.0, 0.0, 0.0]), 1) == [1] and stored.nearest(np.array([1.0, 0, 0]), 7) == []


def test_each_reference_photo_remembers_its_source_photo(image_tree, tmp_path):
    samples = samples_of(image_tree)
    write_reference_photos(samples, 3, tmp_path / "refs", per_class=2)
    sources = reference_sources(tmp_path / "refs")
    assert [(index, number) for index, number, _ in sources] == [(0, 1), (0, 2), (1, 1), (1, 2), (2, 1), (2, 2)]
    assert all((path, index) in [(p.resolve(), label) for p, label in samples] for index, _, path in sources)


def test_the_cover_starts_with_the_most_typical_photo_and_then_takes_each_kind():
    flower, leaf, bark = np.eye(3)
    features = np.stack([flower * 1.0, flower * 0.9 + leaf * 0.05, flower, leaf, leaf + 0.1 * flower, bark])
    order = cover(features, 3)
    assert order[0] in (0, 1, 2)  # the flower photos are the class's majority
    assert {int(np.argmax(features[i])) for i in order} == {0, 1, 2}  # a flower, a leaf and a bark photo


def test_the_cover_is_repeatable_and_never_repeats_a_photo():
    features = np.random.default_rng(0).normal(size=(20, 8))
    assert cover(features, 20) == cover(features, 20)
    assert sorted(cover(features, 20)) == list(range(20)) and len(cover(features, 50)) == 20


def test_references_are_chosen_per_class_in_cover_order():
    flower, leaf = np.eye(2)
    samples = [("a0", 0), ("a1", 0), ("a2", 0), ("b0", 1), ("b1", 1)]
    features = np.stack([flower, flower, leaf, leaf, leaf * 0.5 + flower])
    chosen, rows = choose_references(samples, features, 2)
    assert [label for _, label in chosen] == [0, 0, 1, 1]
    assert {name for name, _ in chosen[:2]} in ({"a0", "a2"}, {"a1", "a2"})
    assert [samples[row] for row in rows] == chosen


def test_the_candidate_pool_is_spread_and_leaves_out_photos_that_may_not_be_shown(tmp_path):
    paths = [tmp_path / f"{i:02d}.jpg" for i in range(40)]
    provenance = {paths[0].resolve(): {"licence": "All rights reserved"}}
    pool = reference_candidates([(path, 0) for path in paths], 1, per_class=2, provenance=provenance)
    assert len(pool) == 2 * CANDIDATES_PER_REFERENCE and paths[0] not in [path for path, _ in pool]
    assert pool[-1][0].name > "30"  # spread over the whole class, not its first photos
