"""Fixtures for the library tests: the tiny checkpoint exported to ONNX."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_onnx(tiny_checkpoint, tmp_path_factory):
    """The tiny checkpoint exported to ONNX once per session."""
    from plantml.checkpoint import load_checkpoint, spec_of
    from plantml.onnx_export import export_onnx, model_inputs, synthetic_images

    spec = spec_of(load_checkpoint(tiny_checkpoint))
    path = tmp_path_factory.mktemp("onnx") / "tiny.onnx"
    export_onnx(tiny_checkpoint, path, model_inputs(spec, synthetic_images(4, 80)))
    return path
