"""Real workers serve the model files other than a plain float checkpoint: an int8 ONNX export and a model whose
calibration has a plant probe."""

from __future__ import annotations

import numpy as np
import pytest
from django.conf import settings
from PIL import Image

from bench.worker_process import WorkerProcess, worker_env
from ml import versions
from ml.onnx import export_version
from ml.versions import onnx_path
from plantml.onnx_runtime import load_onnx_predictor
from plantml.predictor import Predictor
from recognition import services
from recognition.validators import prepare_uploads
from tests.image_trees import make_image_tree

from .conftest import upload, wait_until_finished

pytestmark = pytest.mark.django_db(transaction=True)


def _jpeg(image: Image.Image) -> bytes:
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="JPEG", quality=95)
    return buffer.getvalue()


def _noise(seed: int) -> Image.Image:
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (96, 96, 3), dtype=np.uint8))


def _flat(colour: tuple[int, int, int]) -> Image.Image:
    return Image.new("RGB", (96, 96), colour)


def _answered(user, env: dict[str, str], images: list[Image.Image], tmp_path):
    """Return the identifications of ``images`` (one plant each), answered by a worker started with ``env``."""
    # a first task loads the model: time limits that a busy 2-core machine stays inside
    limits = {"CELERY_TASK_SOFT_TIME_LIMIT": "300", "CELERY_TASK_TIME_LIMIT": "330"}
    worker = WorkerProcess(tmp_path, env=worker_env(**limits, **env)).start()
    try:
        return [
            wait_until_finished(services.create_identification(user, prepare_uploads([upload(_jpeg(image))])).pk)
            for image in images
        ]
    finally:
        worker.stop()


def test_a_worker_with_the_int8_runtime_serves_the_int8_export(user, active_model, tmp_path):
    names = active_model.class_names
    data = tmp_path / "photos"
    for seed, split in enumerate(("train", "val", "test")):
        make_image_tree(data / split, dict.fromkeys(names, 3), size=64, seed=seed)
    export_version(active_model.name, int8=True, data=data, max_drop=100.0)  # the drop is not what is tested
    identifications = _answered(user, {"RECOGNITION_RUNTIME": "onnx-int8"}, [_noise(1), _flat((30, 200, 40))], tmp_path)
    int8 = load_onnx_predictor(onnx_path(active_model, int8=True))
    for identification in identifications:
        assert identification.status == "done", identification.error
        photo = int8.open_image(identification.photos.get().file.path)
        expected = int8.predict([photo], top_k=settings.RECOGNITION_TOP_K)
        stored = list(identification.candidates.order_by("rank"))
        assert [c.label for c in stored] == [p.label for p in expected]
        assert [c.probability for c in stored] == pytest.approx([p.probability for p in expected], abs=1e-5)


def test_a_worker_answers_with_the_models_plant_probe(user, active_model, tmp_path):
    from plantml.checkpoint import load_checkpoint, write_payload
    from plantml.modeling import forward_with_features
    from plantml.onnx_export import model_inputs
    from plantml.open_set import Calibration, fit_plant_probe

    predictor = Predictor.from_checkpoint(active_model.checkpoint_path, device="cpu")
    plants, others = [_noise(seed) for seed in range(4)], [_flat(c) for c in ((200, 40, 40), (40, 40, 200))]
    with pytest.MonkeyPatch.context():
        features = [
            forward_with_features(predictor.model, model_inputs(predictor.spec, x))[1] for x in (plants, others)
        ]
    probe = fit_plant_probe(features[0].detach().numpy(), features[1].detach().numpy())
    payload = load_checkpoint(active_model.checkpoint_path)
    payload["spec"]["calibration"] = Calibration(threshold=1.0, plant_probe=probe).to_dict()
    write_payload(active_model.checkpoint_path, payload)
    versions.checkpoint_rewritten(active_model)

    identifications = _answered(user, {}, [plants[0], others[0]], tmp_path)
    expected = Predictor.from_checkpoint(active_model.checkpoint_path, device="cpu")
    answers = []
    for identification in identifications:
        assert identification.status == "done", identification.error
        (answer,) = expected.identify_many([[expected.open_image(identification.photos.get().file.path)]])
        assert (identification.outcome, identification.reason) == (answer.outcome, answer.reason)
        answers.append((identification.outcome, identification.reason))
    # the probe, not the threshold, tells the flat colour (no plant to it) from the noise (a plant to it)
    assert answers == [("no_match", "unknown_species"), ("no_match", "not_a_plant")]
