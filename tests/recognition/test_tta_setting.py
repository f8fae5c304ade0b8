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


def test_with_tta_the_answer_is_the_flip_averaged_prediction(user, active_model, settings):
    identification = _answer(user, settings, tta=True)
    answer = _candidates(identification)
    predictor = Predictor.from_checkpoint(active_model.checkpoint_path, device="cpu")
    photo = Image.open(identification.photos.get().file.path).convert("RGB")
    averaged = predictor.predict([photo], top_k=settings.RECOGNITION_TOP_K, tta=True)
    plain = predictor.predict([photo], top_k=settings.RECOGNITION_TOP_K, tta=False)
    assert [label for label, _ in answer] == [p.label for p in averaged]
    assert [p for _, p in answer] == pytest.approx([p.probability for p in averaged], abs=1e-4)
    assert [p.probability for p in averaged] != pytest.approx([p.probability for p in plain], abs=1e-3)


def test_without_tta_the_answer_is_the_single_view_prediction(user, active_model, settings):
    with_tta = _candidates(_answer(user, settings, tta=True))
    without = _candidates(_answer(user, settings, tta=False))
    assert [p for _, p in with_tta] != pytest.approx([p for _, p in without], abs=1e-3)
