"""The registry of trained model versions; exactly one may be active."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import get_language

from plantml.species_facts import SpeciesInfo, common_name_in


class ModelVersion(models.Model):
    """A trained checkpoint that the workers can serve."""

    name = models.SlugField(max_length=100, unique=True)
    title = models.CharField(
        max_length=200, blank=True, help_text="what users read, e.g. 'Garden flowers, spring 2026'"
    )
    title_translations = models.JSONField(
        default=dict, blank=True, help_text="the title in other languages: {language code: title}"
    )
    architecture = models.CharField(max_length=100)
    class_names = models.JSONField(default=list)
    display_names = models.JSONField(default=list)
    species = models.JSONField(
        default=list, blank=True, help_text="species facts per class (SpeciesInfo dicts), as the checkpoint has them"
    )
    input_size = models.PositiveIntegerField(default=224)
    checkpoint_path = models.CharField(max_length=500)
    sha256 = models.CharField(max_length=64)
    metrics = models.JSONField(default=dict, blank=True)
    is_active = models.BooleanField(default=False)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]
        constraints = [
            models.UniqueConstraint(fields=["is_active"], condition=Q(is_active=True), name="one_active_model_version")
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.architecture}, {len(self.class_names)} classes)"

    @property
    def shown_title(self) -> str:
        """Return the title in the active language, else the plain title, else the registry name."""
        return self.title_in(get_language())

    def title_in(self, language: str | None) -> str:
        """Return the title given for ``language`` ('zh' finds 'zh-hans'), else the plain title, else the name."""
        return common_name_in(self.title_translations or {}, language) or self.title or self.name

    @property
    def num_classes(self) -> int:
        return len(self.class_names)

    def species_info(self, index: int) -> SpeciesInfo | None:
        """Return the species facts of class ``index``, or None when the model has none."""
        if not 0 <= index < len(self.species or []):
            return None
        return SpeciesInfo.from_dict(self.species[index])
