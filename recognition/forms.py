"""Forms for the pages; their rules live in recognition.validators, shared with the API."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy

from .models import Identification
from .validators import clean_organs, prepare_uploads, validate_feedback

ACCEPT = "image/jpeg,image/png,image/webp,image/gif"


class MultipleImageInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """A file field that takes several photos and returns them validated and normalised."""

    widget = MultipleImageInput

    def clean(self, data, initial=None):
        files = [f for f in data if f] if isinstance(data, (list, tuple)) else ([data] if data else [])
        return prepare_uploads(files)


class IdentifyForm(forms.Form):
    """Field ``images`` (1-5 photos of one plant) and optional ``organs`` (one per photo)."""

    images = MultipleImageField(
        label=gettext_lazy("Photos of one plant"),
        required=False,
        widget=MultipleImageInput(attrs={"accept": ACCEPT, "multiple": True}),
        help_text=gettext_lazy(
            "1 to 5 photos: JPEG, PNG, WebP or GIF. Different organs (leaf, flower, fruit, bark) help."
        ),
    )

    def clean(self):
        cleaned = super().clean()
        photos = cleaned.get("images")
        if photos:
            try:
                cleaned["organs"] = clean_organs(self.data.getlist("organs"), len(photos))
            except ValidationError as exc:
                self.add_error(None, exc)
        return cleaned


class FeedbackForm(forms.Form):
    """Confirm a candidate (``label``), type the species (``species``) or give a ``verdict`` (none of these, not
    a plant); ``share`` is the training consent. The page offers the verdicts in the candidates' radio group, so a
    ``label`` that is a verdict and no candidate's label is read as that verdict."""

    label = forms.CharField(required=False, max_length=200)
    verdict = forms.CharField(required=False, max_length=16)
    species = forms.CharField(required=False, max_length=200, label=gettext_lazy("Correct species"))
    share = forms.BooleanField(required=False, label=gettext_lazy("Let confirmed photos improve the model"))

    def __init__(self, *args, labels: list[str] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.labels = labels or []

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        label, verdict = cleaned.get("label", "").strip(), cleaned.get("verdict", "").strip()
        if label and label not in self.labels and label in Identification.Verdict.values and not verdict:
            label, verdict = "", label
        validate_feedback(label, cleaned.get("species", "").strip(), self.labels, verdict)
        cleaned["label"], cleaned["verdict"] = label, verdict
        return cleaned


class HistorySearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label=gettext_lazy("Species"))
