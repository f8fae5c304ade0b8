"""Training phases (head-only warm-up, full fine-tune, higher-resolution fine-tune) and early stopping."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phase:
    """One stage of a run: which parameters train, at what size and learning-rate scale."""

    name: str
    epochs: int
    train_backbone: bool = True
    lr_scale: float = 1.0
    input_size: int = 224
    use_mixup: bool = True
    label_smoothing: bool = True


def plan_phases(
    *, epochs: int, input_size: int, head_epochs: int = 0, hires_epochs: int = 0, hires_size: int | None = None
) -> list[Phase]:
    """Return the run's phases in order; phases with no epochs are left out."""
    phases = [
        Phase("head", head_epochs, train_backbone=False, input_size=input_size),
        Phase("finetune", epochs, input_size=input_size),
        Phase(
            "hires",
            hires_epochs,
            lr_scale=0.1,
            input_size=hires_size or input_size,
            use_mixup=False,
            label_smoothing=False,
        ),
    ]
    return [phase for phase in phases if phase.epochs > 0]


class EarlyStopping:
    """Stops a phase when the score has not improved by ``min_delta`` for ``patience`` epochs after ``min_epochs``."""

    def __init__(self, patience: int = 5, min_epochs: int = 1, min_delta: float = 0.0) -> None:
        self.patience, self.min_epochs, self.min_delta = patience, min_epochs, min_delta
        self.best: float | None = None
        self.bad_epochs = 0
        self.epochs = 0

    def step(self, score: float) -> bool:
        """Record one epoch's score (higher is better); return True when the phase should stop."""
        self.epochs += 1
        if self.best is None or score > self.best + self.min_delta:
            self.best, self.bad_epochs = score, 0
        else:
            self.bad_epochs += 1
        return self.patience > 0 and self.epochs >= self.min_epochs and self.bad_epochs >= self.patience

    def state_dict(self) -> dict:
        return {"best": self.best, "bad_epochs": self.bad_epochs, "epochs": self.epochs}

    def load_state_dict(self, state: dict) -> None:
        self.best, self.bad_epochs, self.epochs = state["best"], int(state["bad_epochs"]), int(state["epochs"])
