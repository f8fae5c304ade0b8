"""The user's history as CSV or JSON downloads, one record per identification, shared by pages and API."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable

from django.conf import settings
from django.http import HttpResponse

from .models import Identification, IdentificationPhoto
from .selectors import outcome_of

FORMATS = ("csv", "json")
PhotoUrl = Callable[[IdentificationPhoto], str]


def history_record(identification: Identification, photo_url: PhotoUrl) -> dict:
    """Return one identification as plain data: date, photos' URLs, outcome and reason, candidates (with their
    certainty in words), feedback (the species, and the verdict: none of these or not a plant)."""
    return {
        "id": str(identification.public_id),
        "date": identification.created.isoformat(),
        "status": identification.status,
        "outcome": outcome_of(identification),
        "reason": identification.reason,
        "model_version": identification.model_version.name if identification.model_version else None,
        "photos": [photo_url(photo) for photo in identification.photos.all()],
        "candidates": [
            {
                "label": c.label,
                "name": c.display_name,
                "probability": round(c.probability, 6),
                "certainty": c.certainty.key,
            }
            for c in identification.candidates.all()
        ],
        "feedback": identification.feedback,
        "feedback_verdict": identification.feedback_verdict,
        "feedback_date": identification.feedback_at.isoformat() if identification.feedback_at else None,
        **where_when_record(identification),
    }


def where_when_record(identification: Identification) -> dict[str, object]:
    """Return when the plant was photographed and, when kept, where (the first photo with a position)."""
    taken_at, place = identification.taken_at, identification.place
    return {
        "taken_at": taken_at.isoformat() if taken_at else None,
        "latitude": place.latitude if place else None,
        "longitude": place.longitude if place else None,
        "map_url": place.map_url if place else None,
    }


def _csv(records: list[dict]) -> str:
    top_k = max([settings.RECOGNITION_TOP_K, *(len(r["candidates"]) for r in records)])
    header = ["id", "date", "status", "outcome", "reason", "model_version", "photos"]
    header += ["feedback", "feedback_verdict", "feedback_date", "taken_at", "latitude", "longitude", "map_url"]
    for rank in range(1, top_k + 1):
        header += [f"candidate_{rank}", f"probability_{rank}", f"certainty_{rank}"]
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for r in records:
        row = [r["id"], r["date"], r["status"], r["outcome"], r["reason"], r["model_version"] or ""]
        row += [" ".join(r["photos"]), r["feedback"], r["feedback_verdict"], r["feedback_date"] or ""]
        row += ["" if r[key] is None else r[key] for key in ("taken_at", "latitude", "longitude", "map_url")]
        for rank in range(top_k):
            candidate = r["candidates"][rank] if rank < len(r["candidates"]) else None
            row += [candidate["name"], candidate["probability"], candidate["certainty"]] if candidate else ["", "", ""]
        writer.writerow(row)
    return buffer.getvalue()


def history_download(identifications: Iterable[Identification], fmt: str, photo_url: PhotoUrl) -> HttpResponse:
    """Return the identifications as an attachment in ``fmt`` ('csv' or 'json'; photos' URLs from ``photo_url``)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
    records = [history_record(identification, photo_url) for identification in identifications]
    if fmt == "csv":
        response = HttpResponse(_csv(records), content_type="text/csv; charset=utf-8")
    else:
        body = json.dumps({"identifications": records}, ensure_ascii=False, indent=1)
        response = HttpResponse(body, content_type="application/json")
    response["Content-Disposition"] = f'attachment; filename="plantsite-history.{fmt}"'
    return response
