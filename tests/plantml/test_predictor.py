"""The Predictor: a real forward pass from a checkpoint to ranked predictions."""

from __future__ import annotations

import pytest
from PIL import Image

from plantml.files import CheckpointError
from plantml.predictor import Predictor


def _image(color: tuple[int, int, int], size: int = 80) -> Image.Image:
    return Image.new("RGB", (size, size), color)


def test_predict_returns_k_sorted_probabilities(tiny_checkpoint):
    predictions = Predictor.from_checkpoint(tiny_checkpoint, device="cpu").predict([_image((200, 30, 30))], top_k=3)
    probabilities = [p.probability for p in predictions]
    assert len(predictions) == 3
    assert probabilities == sorted(probabilities, reverse=True)
    assert sum(probabilities) == pytest.approx(1.0, abs=1e-5)
    assert {p.display_name for p in predictions} == {"Bellis perennis", "Rosa canina", "Helianthus annuus"}


def test_top_k_is_capped_at_the_number_of_classes(tiny_checkpoint):
    predictions = Predictor.from_checkpoint(tiny_checkpoint, device="cpu").predict([_image((0, 0, 0))], top_k=10)
    assert len(predictions) == 3


def test_several_photos_fuse_by_averaging_log_probabilities(tiny_checkpoint):
    import torch

    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu")
    images = [_image((200, 30, 30)), _image((30, 200, 30))]
    expected = torch.softmax(predictor.log_probabilities(images).mean(dim=0), dim=0)
    fused = predictor.predict(images, top_k=3)
    for prediction in fused:
        index = predictor.spec.class_names.index(prediction.label)
        assert prediction.probability == pytest.approx(float(expected[index]), abs=1e-6)


def test_tta_changes_nothing_for_a_symmetric_image_but_runs(tiny_checkpoint):
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu")
    plain = predictor.predict([_image((90, 90, 90))], top_k=3)
    with_tta = predictor.predict([_image((90, 90, 90))], top_k=3, tta=True)
    assert [p.label for p in plain] == [p.label for p in with_tta]


def test_a_foreign_file_is_refused_with_a_clear_message(tmp_path):
    path = tmp_path / "not-a-checkpoint.pt"
    path.write_bytes(b"hello")
    with pytest.raises(CheckpointError, match="not a readable checkpoint"):
        Predictor.from_checkpoint(path)


def test_predict_many_answers_each_plant_as_predict_does(tiny_checkpoint):
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu")
    plants = [[_image((200, 30, 30))], [_image((30, 200, 30)), _image((30, 30, 200), size=120)], [_image((9, 9, 9))]]
    batched = predictor.predict_many(plants, top_k=3)
    for images, answer in zip(plants, batched):
        alone = predictor.predict(images, top_k=3)
        assert [p.label for p in answer] == [p.label for p in alone]
        assert [p.probability for p in answer] == pytest.approx([p.probability for p in alone], abs=1e-5)


def test_predict_many_runs_one_forward_pass_for_all_plants(tiny_checkpoint):
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu")
    batch_sizes = []
    first_layer = next(predictor.model.children())  # the whole model's forward is not called: features come too
    first_layer.register_forward_hook(lambda module, inputs, output: batch_sizes.append(len(inputs[0])))
    predictor.predict_many([[_image((200, 30, 30))], [_image((30, 200, 30)), _image((30, 30, 200))]])
    assert batch_sizes == [3]


def test_predict_many_refuses_a_plant_without_photos(tiny_checkpoint):
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu")
    with pytest.raises(ValueError, match=r"plants \[1\] have none"):
        predictor.predict_many([[_image((1, 2, 3))], []])


def test_open_image_decodes_a_photo_at_about_the_model_size(tiny_checkpoint, tmp_path):
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu")
    _image((90, 120, 30), size=1000).save(tmp_path / "photo.jpg")
    image = predictor.open_image(tmp_path / "photo.jpg")
    assert predictor.decode_side <= min(image.size) < 2 * predictor.decode_side


def test_open_image_crops_a_one_by_six_thousand_strip_before_the_model_resizes_it(tiny_checkpoint, tmp_path):
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu")
    Image.new("RGB", (1, 6000), (90, 120, 30)).save(tmp_path / "strip.png")
    image = predictor.open_image(tmp_path / "strip.png")
    assert image.size == (1, 2)
    assert predictor.transform(image).shape[-2:] == (64, 64)


def test_open_image_keeps_a_photo_within_twice_as_long_as_wide_whole(tiny_checkpoint, tmp_path):
    predictor = Predictor.from_checkpoint(tiny_checkpoint, device="cpu")
    Image.new("RGB", (200, 100), (90, 120, 30)).save(tmp_path / "wide.png")
    assert predictor.open_image(tmp_path / "wide.png").size == (200, 100)


def test_a_checkpoint_calibrated_before_the_other_plant_class_answers_as_before(tiny_checkpoint, tmp_path):
    """A calibration record written before --unknown-data (no other_class key) keeps the old rule: top x P(plant)."""
    import torch

    from plantml.checkpoint import load_checkpoint, write_payload

    payload = load_checkpoint(tiny_checkpoint)
    dims = Predictor.from_checkpoint(tiny_checkpoint, device="cpu").outputs([_image((1, 2, 3))])[1].shape[1]
    generator = torch.Generator().manual_seed(0)
    weight = (torch.randn(dims, generator=generator) * 3).tolist()
    payload["spec"]["calibration"] = {  # the exact keys the earlier code stored
        "temperature": 1.3,
        "threshold": 0.2,
        "plant_probe": {"weight": weight, "bias": 0.0},
        "report": {"val_photos": 30, "reject_photos": 10},
    }
    path = write_payload(tmp_path / "old.pt", payload)
    predictor = Predictor.from_checkpoint(path, device="cpu")
    images = [_image((200, 30, 30)), _image((30, 200, 30)), _image((9, 9, 9)), _image((240, 240, 240))]
    answers = predictor.identify_many([[image] for image in images], top_k=1)
    log_probabilities, features = predictor.outputs(images)
    top = torch.softmax(log_probabilities, dim=1).max(dim=1).values
    plant = torch.sigmoid(torch.nn.functional.normalize(features, dim=1) @ torch.tensor(weight))
    for answer, t, p in zip(answers, top.tolist(), plant.tolist()):
        expected = "identified" if t * p >= 0.2 else "no_match"
        reason = "" if expected == "identified" else ("not_a_plant" if p < 0.5 else "unknown_species")
        assert (answer.outcome, answer.reason, answer.known_probability, answer.typicality) == (
            expected,
            reason,
            None,
            None,
        )
        assert answer.plant_probability == pytest.approx(p, abs=1e-5)


def test_the_predictor_answers_unknown_species_for_a_photo_outside_the_density(tiny_checkpoint, tmp_path):
    """The score the threshold applies to is multiplied by the density's typicality of the plant's features."""
    import torch

    from plantml.checkpoint import load_checkpoint, model_from_checkpoint, spec_of, write_payload
    from plantml.modeling import forward_with_features
    from plantml.novelty import fit_density
    from plantml.onnx_export import model_inputs, synthetic_images

    payload = load_checkpoint(tiny_checkpoint)
    spec, model = spec_of(payload), model_from_checkpoint(payload)
    photos = synthetic_images(30, 90, seed=31)
    with torch.inference_mode():
        logits, features = forward_with_features(model, model_inputs(spec, photos))
    density = fit_density(features.numpy(), logits.argmax(dim=1).numpy(), rank=8).with_cut(features.numpy())
    plants = photos[:6] + [_image((200, 30, 30)), _image((30, 200, 30)), _image((128, 128, 128))]
    with torch.inference_mode():
        logits, features = forward_with_features(model, model_inputs(spec, plants))
    top = torch.softmax(logits, dim=1).max(dim=1).values
    scores = (top * density.typicality(features)).tolist()
    ordered = sorted(scores)
    threshold = (ordered[3] + ordered[4]) / 2  # between two scores, so rounding cannot tip one over
    payload["spec"]["calibration"] = {"temperature": 1.0, "threshold": threshold, "density": density.to_dict()}
    predictor = Predictor.from_checkpoint(write_payload(tmp_path / "dense.pt", payload), device="cpu")
    answers = predictor.identify_many([[photo] for photo in plants])
    expected = [("identified", "") if score >= threshold else ("no_match", "unknown_species") for score in scores]
    assert [(a.outcome, a.reason) for a in answers] == expected
    assert {outcome for outcome, _ in expected} == {"identified", "no_match"}
    assert [a.typicality for a in answers] == pytest.approx(density.typicality(features).tolist(), abs=1e-5)
