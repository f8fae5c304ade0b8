"""Named option sets for ``train``: the tiny recipe that tests and smoke runs start from."""

from __future__ import annotations

from typing import Any

from plantml.options import flag

# a random-init convnextv2_atto at 32 px, one fine-tune epoch, no loader processes: seconds on a CPU, no download
TINY: dict[str, Any] = dict(
    model="convnextv2_atto",
    pretrained=False,
    input_size=32,
    batch_size=8,
    head_epochs=0,
    epochs=1,
    workers=0,
)


def tiny(**overrides: Any) -> dict[str, Any]:
    """Return the tiny recipe's training options, ``overrides`` winning (give ``data`` and ``output`` there)."""
    return {**TINY, **overrides}


def as_arguments(options: dict[str, Any]) -> list[str]:
    """Return ``options`` as ``manage.py train`` command-line arguments (``pretrained=False`` -> ``--no-pretrained``)."""
    arguments: list[str] = []
    for name, value in options.items():
        if isinstance(value, bool):
            arguments.append(flag(name) if value else "--no-" + flag(name)[2:])
        else:
            arguments += [flag(name), str(value)]
    return arguments
