"""Forms for the pages; their rules live in recognition.validators, shared with the API."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy, ngettext

from .models import Identification
from .validators import clean_organs, prepare_uploads, validate_feedback

ACCEPT = "image/jpeg,image/png,image/webp,image/gif"
TOKEN_LIFETIMES_DAYS = (7, 30, 90, 365)


class MultipleImageInput(forms.FileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """A file field that takes several photos and returns them validated and normalised."""

    widget = MultipleImageInput

    def clean(self, data, initial=None):
        files = [f for f in data if f] if isinstance(data, (list, tuple)) else ([data] if data else [])
        return prepare_uploads(files)


def photo_rows(count: int) -> list[tuple[str, str]]:
    """Return the (photo, organ) field names of the page's ``count`` rows for browsers without JavaScript."""
    return [(f"photo_{n}", f"organ_{n}") for n in range(1, count + 1)]


class IdentifyForm(forms.Form):
    """Field ``images`` (1-5 photos of one plant) and optional ``organs`` (one per photo), or the rows
    ``photo_N`` / ``organ_N`` (one photo and its organ each; empty rows are skipped), or both: images first."""

    images = MultipleImageField(
        label=gettext_lazy("Photos of one plant"),
        required=False,
        widget=MultipleImageInput(attrs={"accept": ACCEPT, "multiple": True}),
        help_text=gettext_lazy("1 to 5 photos of one plant: JPEG, PNG, WebP or GIF."),
    )

    def __init__(self, data: Any = None, files: Any = None, **kwargs: Any) -> None:
        self.row_organs: list[str] = []
        if files is not None and data is not None:
            names = photo_rows(settings.RECOGNITION_MAX_FILES)
            rows = [(files[photo], data.get(organ, "")) for photo, organ in names if files.get(photo)]
            if rows:
                files = files.copy()
                for upload, _organ in rows:
                    files.appendlist("images", upload)
                self.row_organs = [organ for _upload, organ in rows]
        super().__init__(data, files, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        photos = cleaned.get("images")
        if photos:
            try:
                given = len(photos) - len(self.row_organs)
                organs = clean_organs(self.data.getlist("organs"), given)
                if self.row_organs:
                    organs += clean_organs(self.row_organs, len(self.row_organs))
                cleaned["organs"] = organs
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


class ApiTokenForm(forms.Form):
    """A new API token's ``name`` and lifetime ``days`` (the choices include the API_TOKEN_DAYS default)."""

    name = forms.CharField(
        max_length=100,
        label=gettext_lazy("Name"),
        help_text=gettext_lazy("Where you will use it, for example “garden camera”."),
    )
    days = forms.TypedChoiceField(coerce=int, label=gettext_lazy("Expires after"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        days = sorted({*TOKEN_LIFETIMES_DAYS, settings.API_TOKEN_DAYS})
        field = cast(forms.TypedChoiceField, self.fields["days"])
        field.choices = [(n, ngettext("%(n)d day", "%(n)d days", n) % {"n": n}) for n in days]
        field.initial = settings.API_TOKEN_DAYS
