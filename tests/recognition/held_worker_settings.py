"""Worker settings for tests that need a task held mid-prediction: a slow model, on request.

While ``$PLANTSITE_TEST_HOLD_DIR/hold`` exists, each forward pass (``Predictor.scaled_logits``, under
``predict``, ``predict_many`` and ``identify_many``) waits before running
(each pool child that gets there writes ``child-<pid>`` first). With ``ignore-soft-limit`` there
too it keeps waiting through the soft time limit, like a forward pass stuck in native code. With
``hold-width`` there (a number), only forward passes with a photo that many pixels wide wait: a poisoned photo.
"""

import os
import time
from pathlib import Path

from celery.exceptions import SoftTimeLimitExceeded

from plantml.predictor import Predictor
from plantsite.settings.test import *  # noqa: F403

HOLD_DIR = Path(os.environ["PLANTSITE_TEST_HOLD_DIR"])
_forward = Predictor.scaled_logits


def _held_forward(self, images, *args, **kwargs):
    width = HOLD_DIR / "hold-width"
    if width.exists() and int(width.read_text()) not in {image.width for image in images}:
        return _forward(self, images, *args, **kwargs)
    (HOLD_DIR / f"child-{os.getpid()}").touch()
    deadline = time.monotonic() + 120
    while (HOLD_DIR / "hold").exists() and time.monotonic() < deadline:
        try:
            time.sleep(0.1)
        except SoftTimeLimitExceeded:
            if not (HOLD_DIR / "ignore-soft-limit").exists():
                raise
    return _forward(self, images, *args, **kwargs)


Predictor.scaled_logits = _held_forward
