"""The JSON a Pl@ntNet client reads: the identify response (species, results, reference images) and errors."""

from __future__ import annotations

from datetime import UTC, datetime
from http import HTTPStatus

from rest_framework.reverse import reverse

from ml.models import ModelVersion

from ..facts import CandidateFacts, candidate_facts
from ..models import Candidate
from .plantnet_query import IdentifyQuery, names_language
from .serializers import reference_photo_urls
from .signed_urls import sign_url


def error_body(status_code: int, message: str) -> dict:
    """Return Pl@ntNet's error JSON: {"statusCode": 404, "error": "Not Found", "message": ...}."""
    return {"statusCode": status_code, "error": HTTPStatus(status_code).phrase, "message": message}


def _taxon(name: str, authorship: str = "") -> dict:
    """Return Pl@ntNet's name object: the name without and with its authorship."""
    return {
        "scientificNameWithoutAuthor": name,
        "scientificNameAuthorship": authorship,
        "scientificName": f"{name} {authorship}".strip(),
    }


def species_facts(facts: CandidateFacts) -> dict:
    """Return a candidate's facts as Pl@ntNet's ``species`` object (without a known genus: the name's first word)."""
    name = facts.scientific_name
    genus = facts.genus or (name.split()[0] if name.split() else name)
    return {
        **_taxon(name, facts.authorship),
        "genus": _taxon(genus),
        "family": _taxon(facts.family),
        "commonNames": [facts.common_name] if facts.common_name else [],
    }


def reference_images(facts: CandidateFacts, version: ModelVersion, request) -> list[dict]:
    """Return the class's reference photos as Pl@ntNet image objects (one thumbnail size for o, m and s), with
    the author, licence ("cc-by-nc", as Pl@ntNet writes them), date and citation the training data recorded; their
    URLs are signed for the requesting user, so that they open as given."""
    images = []
    for url, photo in zip(reference_photo_urls(facts, version, request), facts.reference_photos):
        url = sign_url(url, request.user)
        taken = _date(photo.date) or version.created
        licence = photo.licence.lower().replace(" ", "-")
        credit = ", ".join(part for part in (photo.author, licence) if part)
        images.append(
            {
                "organ": "auto",
                "author": photo.author,
                "license": licence,
                "date": {"timestamp": int(taken.timestamp() * 1000), "string": taken.date().isoformat()},
                "citation": f"{credit} (training photo of {version.shown_title})"
                if credit
                else f"training photo of {version.shown_title}",
                "url": {"o": url, "m": url, "s": url},
            }
        )
    return images


def _date(text: str) -> datetime | None:
    """Return an ISO 8601 date or time as an aware datetime (UTC when no zone is given), or None."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def result_of(candidate: Candidate, version: ModelVersion | None, query: IdentifyQuery, request) -> dict:
    """Return one ranked candidate as a Pl@ntNet ``results`` item, in the query's language."""
    facts = candidate_facts(candidate, version, names_language(query.lang))
    result = {"score": round(candidate.probability, 5), "species": species_facts(facts)}
    if facts.gbif_id:
        result["gbif"] = {"id": str(facts.gbif_id)}
    if query.include_related_images:
        result["images"] = reference_images(facts, version, request) if version is not None else []
    return result


def identify_body(request, project, identification, query: IdentifyQuery, files, given_organs, remaining: int) -> dict:
    """Return Pl@ntNet's identify response for a finished identification."""
    photos = list(identification.photos.all())
    # signed, so that they open as given (an <img src>) without the user's key
    photo_ids = [
        sign_url(
            reverse("api:identification-photo", args=[identification.public_id, photo.pk, "original"], request=request),
            request.user,
        )
        for photo in photos
    ]
    candidates = list(identification.candidates.all())
    if query.nb_results is not None:
        candidates = candidates[: query.nb_results]
    version = identification.model_version
    results = [result_of(candidate, version, query, request) for candidate in candidates]
    return {
        "query": {
            "project": project,
            "images": photo_ids,
            "organs": given_organs or ["auto"] * len(photos),
            "includeRelatedImages": query.include_related_images,
            "noReject": query.no_reject,
        },
        # the organs are the ones the user gave (this service does not predict organs): score 1, auto 0
        "predictedOrgans": [
            {
                "image": image,
                "filename": upload.name or "",
                "organ": organ,
                "score": 0.0 if organ == "auto" else 1.0,
            }
            for image, upload, organ in zip(photo_ids, files, given_organs or ["auto"] * len(photos))
        ],
        "language": query.lang,
        "preferedReferential": project,
        "bestMatch": results[0]["species"]["scientificName"] if results else "",
        "results": results,
        "version": version.name if version else "",
        "remainingIdentificationRequests": remaining,
    }
