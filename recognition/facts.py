"""What users read about a candidate: its names in their language, genus, family, links and reference photos."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode

from django.utils.html import format_html
from django.utils.safestring import SafeString

from ml import reference_photos as version_photos
from ml.models import ModelVersion
from plantml.species_facts import common_name_in

from .models import Candidate

GBIF_SPECIES_URL = "https://www.gbif.org/species/{id}"


def wikipedia_url(name: str, language_code: str | None) -> str:
    """Return a Wikipedia search URL for ``name`` in the user's language (zh for Chinese, else en)."""
    lang = "zh" if (language_code or "").lower().startswith("zh") else "en"
    return f"https://{lang}.wikipedia.org/w/index.php?{urlencode({'search': name})}"


@dataclass(frozen=True)
class ReferencePhoto:
    """A reference photo of a class and, where its training data recorded them, its author and licence."""

    number: int  # version_photos.reference_photo(version, class index, number)
    author: str = ""  # the photo's creator, else its rights holder
    licence: str = ""  # a short name: CC BY, CC BY-NC, CC0, ...
    date: str = ""  # when it was taken, as the source gives it
    source_url: str = ""  # the page it comes from, else the photo's own URL

    @property
    def credit(self) -> str:
        """Return "author · licence" for a caption ('' when neither is known)."""
        return " · ".join(part for part in (self.author, self.licence) if part)


def reference_photos(version: ModelVersion, index: int, first: Sequence[int] = ()) -> tuple[ReferencePhoto, ...]:
    """Return class ``index``'s reference photos, each with the attribution stored beside it: the numbers in
    ``first`` (the ones most like the user's photo, best first) lead, the others follow in order."""
    numbers = version_photos.reference_numbers(version, index)
    leading = [number for number in first if number in numbers]
    photos = []
    for number in leading + [number for number in numbers if number not in leading]:
        known = version_photos.reference_attribution(version, index, number)
        photos.append(
            ReferencePhoto(
                number=number,
                author=known.get("creator") or known.get("rights_holder", ""),
                licence=known.get("licence", ""),
                date=known.get("created", ""),
                source_url=known.get("references") or known.get("url", ""),
            )
        )
    return tuple(photos)


@dataclass(frozen=True)
class SpeciesNames:
    """How a class is named to a reader: the common name in their language leads, the scientific name beside it."""

    scientific: str  # the scientific name, else (no species facts) the display name or folder
    common: str = ""  # in the reader's language, '' when unknown
    latin: bool = False  # whether ``scientific`` is a scientific name from the species facts (shown in italics)

    @property
    def lead(self) -> str:
        """Return the name that leads: the common name, else the scientific one."""
        return self.common or self.scientific

    @property
    def plain(self) -> str:
        """Return both names as plain text, "dog rose (Rosa canina)", for titles and labels."""
        return f"{self.common} ({self.scientific})" if self.common else self.scientific

    @property
    def html(self) -> SafeString:
        """Return both names as HTML: the common name, then the scientific name in italics."""
        scientific = (
            format_html('<i class="scientific" data-testid="latin-name">{}</i>', self.scientific)
            if self.latin
            else format_html("{}", self.scientific)
        )
        if not self.common:
            return scientific
        return format_html('<span data-testid="common-name">{}</span> {}', self.common, scientific)


def species_names(version: ModelVersion | None, label: str, display_name: str, language: str | None) -> SpeciesNames:
    """Return the names of class ``label`` of ``version`` for ``language``; the display name when the facts lack."""
    index = version.class_names.index(label) if version and label in version.class_names else None
    if version is None or index is None:
        return SpeciesNames(scientific=display_name or label)
    return names_at(version, index, display_name, language)


def names_at(version: ModelVersion, index: int, display_name: str, language: str | None) -> SpeciesNames:
    """Return the names of class ``index`` of ``version`` for ``language`` (species_names without the lookup)."""
    label = version.class_names[index]
    info = version.species_info(index)
    known = info is not None and bool(info.scientific_name) and info.scientific_name != label
    return SpeciesNames(
        scientific=info.scientific_name if info is not None and known else (display_name or label),
        common=common_name_in(info.common_names, language) if info else "",
        latin=known,
    )


def class_names_of(version: ModelVersion, index: int) -> list[str]:
    """Return every name of class ``index``: folder, display name, scientific name and its common names (any
    language)."""
    names = [version.class_names[index]]
    if index < len(version.display_names):
        names.append(version.display_names[index])
    info = version.species_info(index)
    if info is not None:
        names += [info.scientific_name, *info.common_names.values()]
    return [name for name in names if name]


def matching_labels(version: ModelVersion, query: str) -> list[str]:
    """Return the labels of ``version``'s classes with a name (any of class_names_of) that contains ``query``,
    ignoring case."""
    needle = query.casefold()
    return [
        label
        for index, label in enumerate(version.class_names)
        if any(needle in name.casefold() for name in class_names_of(version, index))
    ]


@dataclass(frozen=True)
class CandidateFacts:
    """A candidate's species facts; without facts in the model, its name is the candidate's and the rest empty."""

    scientific_name: str
    authorship: str
    genus: str
    family: str
    common_name: str  # in the user's language, '' when unknown
    gbif_id: int | None
    wikipedia_url: str
    class_index: int | None  # the class in the model version, None when the version no longer knows it
    reference_photos: tuple[ReferencePhoto, ...]  # of the class, with author and licence where recorded
    known: bool  # whether the model has species facts for the class (not only its folder name)

    @property
    def reference_numbers(self) -> tuple[int, ...]:
        """Return the numbers of the class's reference photos (version_photos.reference_photo)."""
        return tuple(photo.number for photo in self.reference_photos)

    @property
    def gbif_url(self) -> str:
        """Return the species' GBIF page, or '' without a GBIF id."""
        return GBIF_SPECIES_URL.format(id=self.gbif_id) if self.gbif_id else ""

    @property
    def names(self) -> SpeciesNames:
        """Return the names readers see, the common one leading."""
        return SpeciesNames(scientific=self.scientific_name, common=self.common_name, latin=self.known)

    @property
    def full_name(self) -> str:
        """Return the scientific name with its authorship."""
        return f"{self.scientific_name} {self.authorship}".strip()


def candidate_facts(candidate: Candidate, version: ModelVersion | None, language: str | None) -> CandidateFacts:
    """Return the species facts of ``candidate`` in ``version`` (its identification's model) for ``language``."""
    index = version.class_names.index(candidate.label) if version and candidate.label in version.class_names else None
    info = version.species_info(index) if version is not None and index is not None else None
    known = info is not None and bool(info.scientific_name) and info.scientific_name != candidate.label
    name = info.scientific_name if known else (candidate.display_name or candidate.label)
    return CandidateFacts(
        scientific_name=name,
        authorship=info.authorship if known else "",
        genus=info.genus if known else "",
        family=info.family if known else "",
        common_name=common_name_in(info.common_names, language) if info else "",
        gbif_id=info.gbif_id if info else None,
        wikipedia_url=wikipedia_url(name, language),
        class_index=index,
        reference_photos=(
            reference_photos(version, index, candidate.similar_references)
            if version is not None and index is not None
            else ()
        ),
        known=known,
    )
