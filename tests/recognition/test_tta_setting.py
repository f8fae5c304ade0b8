"""RECOGNITION_TTA turns on flip averaging where identifications are answered (pipeline.run_identification)."""

from __future__ import annotations

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from plantml.predictor import Predictor
from recognition import pipeline, services
from recognition.validators import prepare_uploads

pytestmark = pytest.mark.django_db


def _lopsided_photo() -> SimpleUploadedFile:
    """A photo whose mirror image differs: red on the left, green stripes on the right."""
    image = Image.new("RGB", (96, 96), (200, 30, 30))
    for x in range(48, 96, 6):
        image.paste((30, 210, 60), (x, 0, x + 3, 96))
    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return SimpleUploadedFile("lopsided.jpg", buffer.getvalue(), content_type="image/jpeg")


def _answer(user, settings, tta: bool):
    """Return the answered identification of the lopsided photo with RECOGNITION_TTA = ``tta``."""
    settings.RECOGNITION_TTA = tta
    identification = services.create_identification(user, prepare_uploads([_lopsided_photo()]))
    assert pipeline.run_identification(identification.pk) == "done"
    return identification


def _candidates(identification) -> list[tuple[str, float]]:
    return [(c.label, c.probability) for c in identification.candidates.order_by("rank")]


def _expected(active_model, identification, tta: bool) -> list[float]:
    """Return the sorted probabilities computed here from the network: softmax(mean of the views' logits / T)."""
    import torch

    predictor = Predictor.from_checkpoint(active_model.checkpoint_path, device="cpu")  # its network and transform
    batch = predictor.transform(predictor.open_image(identification.photos.get().file.path)).unsqueeze(0)
    views = [batch, torch.flip(batch, dims=[3])] if tta else [batch]  # the mirror image is the flipped view
    with torch.inference_mode():
        logits = torch.stack([predictor.model(view)[0].double() for view in views]).mean(dim=0)
    probabilities = torch.softmax(logits / predictor.calibration.temperature, dim=0)
    return sorted(probabilities.tolist(), reverse=True)


def test_with_tta_the_answer_is_the_flip_averaged_prediction(user, active_model, settings):
    identification = _answer(user, settings, tta=True)
    answer = [p for _, p in _candidates(identification)]
    expected = _expected(active_model, identification, tta=True)
    assert answer == pytest.approx(expected[: len(answer)], abs=1e-4)
    assert expected != pytest.approx(_expected(active_model, identification, tta=False), abs=1e-3), (
        "the photo's mirror image gives the same answer: it cannot tell TTA from none"
    )


def test_without_tta_the_answer_is_the_single_view_prediction(user, active_model, settings):
    identification = _answer(user, settings, tta=False)
    answer = [p for _, p in _candidates(identification)]
    expected = _expected(active_model, identification, tta=False)
    assert answer == pytest.approx(expected[: len(answer)], abs=1e-4)
    assert expected != pytest.approx(_expected(active_model, identification, tta=True), abs=1e-3)
