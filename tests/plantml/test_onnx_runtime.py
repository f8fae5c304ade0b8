"""The ONNX Runtime predictor: same interface and answers as the PyTorch one (outcomes too); foreign files refused."""

from __future__ import annotations

import logging
from dataclasses import replace

import onnx
import pytest
import torch
from PIL import Image

from plantml.checkpoint import load_checkpoint, model_from_checkpoint, spec_of, write_payload
from plantml.files import CheckpointError
from plantml.modeling import forward_with_features
from plantml.novelty import fit_density
from plantml.onnx_export import export_onnx, model_inputs, synthetic_images
from plantml.onnx_runtime import FEATURES, load_onnx_predictor
from plantml.open_set import IDENTIFIED, NO_MATCH, NOT_A_PLANT, UNKNOWN_SPECIES, Calibration, fit_plant_probe
from plantml.predictor import Predictor
from tests.image_trees import solid_colours

TEMPERATURE = 8.0  # spreads the untrained head's probabilities, so a threshold can split them


def probe_photos() -> tuple[list[Image.Image], list[Image.Image]]:
    """Return noise photos (plants, to the probe) and flat-colour photos (no plant)."""
    return synthetic_images(4, 90, seed=21), solid_colours(3, 90, seed=22)


def probe_plants() -> list[list[Image.Image]]:
    """Return the plants to identify: each noise photo alone, one colour alone and two colours as one plant."""
    noise, colours = probe_photos()
    return [[photo] for photo in noise] + [[colours[0]], colours[1:]]


def widest_gap_midpoint(scores: list[float]) -> float:
    """Return the midpoint of the widest gap between the sorted ``scores``: a threshold far from all of them."""
    ordered = sorted(scores)
    low, high = max(zip(ordered, ordered[1:]), key=lambda pair: pair[1] - pair[0])
    return (low + high) / 2


@pytest.fixture(scope="module")
def probed_checkpoint(tiny_checkpoint, tmp_path_factory):
    """The tiny checkpoint calibrated with a plant probe fitted on the photos' own features and a threshold that
    answers some noise photos *identified* and others *unknown species*."""
    payload = load_checkpoint(tiny_checkpoint)
    spec, model = spec_of(payload), model_from_checkpoint(payload)
    noise, colours = probe_photos()
    with torch.inference_mode():
        noise_logits, noise_features = forward_with_features(model, model_inputs(spec, noise))
        colour_features = forward_with_features(model, model_inputs(spec, colours))[1]
    top = torch.softmax(noise_logits / TEMPERATURE, dim=1).max(dim=1).values.tolist()
    probe = fit_plant_probe(noise_features.numpy(), colour_features.numpy())
    calibration = Calibration(TEMPERATURE, widest_gap_midpoint(top), probe)
    payload["spec"]["calibration"] = calibration.to_dict()
    return write_payload(tmp_path_factory.mktemp("probed") / "probed.pt", payload)


@pytest.fixture(scope="module")
def probed_onnx(probed_checkpoint):
    """The probed checkpoint exported to ONNX (logits and features)."""
    path = probed_checkpoint.with_suffix(".onnx")
    export_onnx(probed_checkpoint, path, model_inputs(spec_of(load_checkpoint(probed_checkpoint)), probe_photos()[0]))
    return path


@pytest.fixture(scope="module")
def dense_onnx(tiny_checkpoint, tmp_path_factory):
    """The tiny checkpoint with a feature density fitted on noise photos (labelled by its answers), and its export:
    the density's cut placed so that some of the probe plants fall inside it and some outside."""
    payload = load_checkpoint(tiny_checkpoint)
    spec, model = spec_of(payload), model_from_checkpoint(payload)
    with torch.inference_mode():
        logits, features = forward_with_features(model, model_inputs(spec, synthetic_images(24, 90, seed=23)))
    density = fit_density(features.numpy(), logits.argmax(dim=1).numpy(), rank=8)
    with torch.inference_mode():
        plant_features = forward_with_features(model, model_inputs(spec, [p[0] for p in probe_plants()]))[1]
    density = replace(density.with_cut(features.numpy()), limit=float(density.distance(plant_features).median()))
    payload["spec"]["calibration"] = Calibration(TEMPERATURE, 0.0, density=density).to_dict()
    path = write_payload(tmp_path_factory.mktemp("dense") / "dense.pt", payload)
    export_onnx(path, path.with_suffix(".onnx"), model_inputs(spec, probe_photos()[0]))
    return path


def test_the_onnx_predictor_gives_the_torch_typicality(dense_onnx):
    ours = load_onnx_predictor(dense_onnx.with_suffix(".onnx")).identify_many(probe_plants())
    theirs = Predictor.from_checkpoint(dense_onnx, device="cpu").identify_many(probe_plants())
    assert [a.typicality for a in ours] == pytest.approx([a.typicality for a in theirs], abs=1e-3)
    assert {a.typicality > 0.5 for a in theirs} == {True, False}


@pytest.fixture(scope="module")
def logits_only_onnx(probed_onnx):
    """The probed export with its features output dropped: a file exported before features existed."""
    model = onnx.load(str(probed_onnx))
    kept = [output for output in model.graph.output if output.name != FEATURES]
    del model.graph.output[:]
    model.graph.output.extend(kept)
    path = probed_onnx.with_name("logits-only.onnx")
    onnx.save(model, str(path))
    return path


def test_the_onnx_predictor_answers_like_the_torch_one(tiny_checkpoint, tiny_onnx):
    plants = [synthetic_images(1, 90, seed=1), synthetic_images(2, 70, seed=2)]
    onnx_answers = load_onnx_predictor(tiny_onnx).predict_many(plants, top_k=3)
    torch_answers = Predictor.from_checkpoint(tiny_checkpoint, device="cpu").predict_many(plants, top_k=3)
    for ours, theirs in zip(onnx_answers, torch_answers):
        assert [p.label for p in ours] == [p.label for p in theirs]
        assert [p.probability for p in ours] == pytest.approx([p.probability for p in theirs], abs=1e-4)


def test_the_spec_travels_in_the_file(tiny_onnx):
    spec = load_onnx_predictor(tiny_onnx).spec
    assert (spec.architecture, spec.input_size) == ("convnextv2_atto", 64)
    assert spec.display_names == ["Bellis perennis", "Rosa canina", "Helianthus annuus"]


def test_an_onnx_file_without_our_metadata_is_refused_with_the_fix(tiny_onnx, tmp_path):
    model = onnx.load(str(tiny_onnx))
    del model.metadata_props[:]
    onnx.save(model, str(tmp_path / "foreign.onnx"))
    with pytest.raises(CheckpointError, match="not a plantsite ONNX export.*manage.py models export"):
        load_onnx_predictor(tmp_path / "foreign.onnx")


def test_a_missing_file_names_the_export_command(tmp_path):
    with pytest.raises(CheckpointError, match="no ONNX file at .*manage.py models export NAME"):
        load_onnx_predictor(tmp_path / "none.onnx")


def test_the_torch_answers_cover_every_outcome(probed_checkpoint):
    answers = Predictor.from_checkpoint(probed_checkpoint, device="cpu").identify_many(probe_plants())
    assert {(a.outcome, a.reason) for a in answers} == {
        (IDENTIFIED, ""),
        (NO_MATCH, UNKNOWN_SPECIES),
        (NO_MATCH, NOT_A_PLANT),
    }


def test_the_onnx_predictor_gives_the_torch_outcomes_and_probabilities(probed_checkpoint, probed_onnx):
    ours = load_onnx_predictor(probed_onnx).identify_many(probe_plants(), top_k=3)
    theirs = Predictor.from_checkpoint(probed_checkpoint, device="cpu").identify_many(probe_plants(), top_k=3)
    assert [(a.outcome, a.reason) for a in ours] == [(a.outcome, a.reason) for a in theirs]
    assert [a.plant_probability for a in ours] == pytest.approx([a.plant_probability for a in theirs], abs=1e-4)
    for answer, expected in zip(ours, theirs):
        assert [p.label for p in answer.candidates] == [p.label for p in expected.candidates]
        assert [p.probability for p in answer.candidates] == pytest.approx(
            [p.probability for p in expected.candidates], abs=1e-4
        )


def test_an_export_without_features_still_predicts_with_no_plant_probability(probed_checkpoint, logits_only_onnx):
    ours = load_onnx_predictor(logits_only_onnx).identify_many(probe_plants(), top_k=3)
    theirs = Predictor.from_checkpoint(probed_checkpoint, device="cpu").identify_many(probe_plants(), top_k=3)
    assert [a.plant_probability for a in ours] == [None] * len(theirs)
    assert [a.candidates[0].label for a in ours] == [a.candidates[0].label for a in theirs]


def test_an_export_without_features_warns_once_to_export_again(logits_only_onnx, caplog):
    with caplog.at_level(logging.WARNING):
        load_onnx_predictor(logits_only_onnx).identify_many(probe_plants())
    warnings = [record.getMessage() for record in caplog.records if record.levelno >= logging.WARNING]
    assert len(warnings) == 1 and "'not a plant' cannot be answered" in warnings[0]
    assert "manage.py models export NAME" in warnings[0]
