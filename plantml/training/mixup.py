"""Mixup / CutMix (timm's Mixup) that switch off at given epochs."""

from __future__ import annotations

from timm.data import Mixup


class MixupSchedule:
    """Returns the batch mixer for an epoch, or None once both Mixup and CutMix are switched off."""

    def __init__(
        self,
        num_classes: int,
        *,
        mixup_alpha: float = 0.0,
        cutmix_alpha: float = 0.0,
        mixup_off_epoch: int | None = None,
        cutmix_off_epoch: int | None = None,
        label_smoothing: float = 0.0,
        prob: float = 1.0,
    ) -> None:
        self.num_classes, self.label_smoothing, self.prob = num_classes, label_smoothing, prob
        self.mixup_alpha, self.cutmix_alpha = mixup_alpha, cutmix_alpha
        self.mixup_off_epoch, self.cutmix_off_epoch = mixup_off_epoch, cutmix_off_epoch

    def alphas(self, epoch: int) -> tuple[float, float]:
        """Return the (mixup, cutmix) alphas in force at ``epoch`` (0 when switched off)."""
        mixup = self.mixup_alpha if self.mixup_off_epoch is None or epoch < self.mixup_off_epoch else 0.0
        cutmix = self.cutmix_alpha if self.cutmix_off_epoch is None or epoch < self.cutmix_off_epoch else 0.0
        return mixup, cutmix

    def for_epoch(self, epoch: int) -> Mixup | None:
        """Return a Mixup producing soft targets for ``epoch``, or None when neither is on."""
        mixup, cutmix = self.alphas(epoch)
        if mixup <= 0 and cutmix <= 0:
            return None
        return Mixup(
            mixup_alpha=mixup,
            cutmix_alpha=cutmix,
            prob=self.prob,
            label_smoothing=self.label_smoothing,
            num_classes=self.num_classes,
        )
