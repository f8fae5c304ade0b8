"""The pages: identify, result (with live status), photos, history, feedback, delete, API token."""

from __future__ import annotations

from uuid import UUID

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import InterfaceError, OperationalError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from ml import versions

from . import services, tokens
from .certainty import shown_candidates
from .client_keys import already_uploaded, parse_client_key
from .forms import ApiTokenForm, FeedbackForm, HistorySearchForm, IdentifyForm, photo_rows
from .history_export import FORMATS, history_download
from .models import Identification, IdentificationPhoto
from .responses import photo_response
from .selectors import own_identifications, search_species, shares_confirmed_photos
from .throttles import UploadRateThrottle


def _wants_json(request: HttpRequest) -> bool:
    """True for the upload script's fetch (it asks for JSON); a plain form post gets HTML."""
    return "application/json" in request.headers.get("Accept", "")


@require_http_methods(["GET", "POST"])
def identify(request: HttpRequest) -> HttpResponse:
    """Show the upload form, or store the photos, queue the work and go to the result page.

    The upload script gets JSON instead: {"url"} on success, {"errors"} when refused, so it keeps its photos.
    A ``client_key`` this user already sent answers as its first upload did, storing and counting nothing.
    """
    client_key = None
    if request.method == "POST":
        try:
            client_key = parse_client_key(request.POST.get("client_key"))
        except ValidationError as exc:
            if _wants_json(request):
                return JsonResponse({"errors": exc.messages}, status=400)
            return HttpResponse(exc.messages[0], status=400, content_type="text/plain; charset=utf-8")
        repeated = already_uploaded(request.user, client_key)
        if repeated is not None:
            return _accepted(request, repeated)
    try:
        version = versions.serving_version()
    except versions.RegistryError as exc:
        if request.method == "POST" and _wants_json(request):
            return JsonResponse({"errors": [str(exc)]}, status=503)
        return render(
            request,
            "recognition/identify.html",
            {"no_model": str(exc)},
            status=503 if request.method == "POST" else 200,
        )
    form = IdentifyForm(request.POST, request.FILES) if request.method == "POST" else IdentifyForm()
    throttle = UploadRateThrottle()
    status = 200
    if request.method == "POST" and not throttle.allow_request(request, None):
        # the same per-user budget as the API's uploads, so neither door bypasses the other
        message = upload_throttled_message(throttle.wait())
        if _wants_json(request):
            return JsonResponse({"errors": [message]}, status=429)
        form = IdentifyForm()
        messages.error(request, message)
        status = 429
    elif request.method == "POST" and form.is_valid():
        try:
            identification = services.create_identification(
                request.user, form.cleaned_data["images"], form.cleaned_data["organs"], client_key=client_key
            )
        except (OperationalError, InterfaceError):
            message = _("The database did not answer, so nothing was stored: send the photos again in a minute.")
            if _wants_json(request):
                return JsonResponse({"errors": [message]}, status=503)
            messages.error(request, message)
            status = 503
        else:
            return _accepted(request, identification)
    elif request.method == "POST":
        if _wants_json(request):
            errors = [*form.non_field_errors(), *form.errors.get("images", [])]
            return JsonResponse({"errors": errors}, status=400)
        status = 400
    context = {
        "form": form,
        "version": version,
        "organs": IdentificationPhoto.Organ.choices,
        "rows": photo_rows(settings.RECOGNITION_MAX_FILES),
        "max_files": settings.RECOGNITION_MAX_FILES,
        "max_bytes": settings.RECOGNITION_MAX_UPLOAD_BYTES,
        "max_mb": settings.RECOGNITION_MAX_UPLOAD_BYTES // (1024 * 1024),
    }
    return render(request, "recognition/identify.html", context, status=status)


def _accepted(request: HttpRequest, identification: Identification) -> HttpResponse:
    url = reverse("recognition:detail", args=[identification.public_id])
    return JsonResponse({"url": url}, status=201) if _wants_json(request) else redirect(url)


def upload_throttled_message(wait: float | None) -> str:
    """Return the message for an upload refused by the per-user rate, naming when to try again."""
    seconds = max(1, round(wait or 1))
    return _("Too many uploads: you may start %(rate)s identifications. Try again in %(seconds)d seconds.") % {
        "rate": settings.RECOGNITION_UPLOAD_RATE,
        "seconds": seconds,
    }


def detail(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Show one identification: live status, then the ranked candidates, photos and feedback form."""
    identification = get_object_or_404(
        own_identifications(request.user).select_related("model_version"), public_id=public_id
    )
    candidates = shown_candidates(identification.candidates.all())
    form = FeedbackForm(
        initial={
            "label": identification.feedback_label,
            "species": identification.feedback_text,
            "share": shares_confirmed_photos(request.user),
        }
    )
    context = {
        "pending": not identification.is_finished,
        "identification": identification,
        "candidates": candidates,
        "photos": identification.photos.all(),
        "feedback_form": form,
        "verdicts": [(value, words) for value, words in Identification.Verdict.choices if value],
    }
    return render(request, "recognition/detail.html", context)


def status(request: HttpRequest, public_id: UUID) -> JsonResponse:
    """Return {"status", "error", "finished"} for the result page's polling script."""
    identification = get_object_or_404(Identification, owner=request.user, public_id=public_id)
    return JsonResponse(
        {"status": identification.status, "error": identification.error, "finished": identification.is_finished}
    )


def photo(request: HttpRequest, public_id: UUID, photo_pk: int, kind: str) -> FileResponse:
    """Serve a photo or its thumbnail to its owner only (404 for anyone else)."""
    identification = get_object_or_404(own_identifications(request.user).only("pk"), public_id=public_id)
    return photo_response(request.user, identification.pk, photo_pk, kind)


MAX_ROW_NUMBER = 2**63 - 1


def numbered(request: HttpRequest, pk: int, rest: str = "") -> HttpResponse:
    """Send an identification's old numbered URL (a bookmark) to its public-id URL: for its owner only, else 404."""
    if pk > MAX_ROW_NUMBER:  # a number no database column holds: nothing there
        raise Http404("no such identification")
    identification = get_object_or_404(own_identifications(request.user).only("public_id"), pk=pk)
    return redirect(f"{reverse('recognition:detail', args=[identification.public_id])}{rest}")


def history(request: HttpRequest) -> HttpResponse:
    """List the user's identifications, newest first, searchable by species and paginated."""
    form = HistorySearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    queryset = search_species(own_identifications(request.user), query)
    queryset = queryset.select_related("model_version").prefetch_related("photos")
    page = Paginator(queryset, settings.RECOGNITION_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "recognition/history.html", {"page": page, "form": form, "query": query})


def history_export(request: HttpRequest, fmt: str) -> HttpResponse:
    """Download the user's history (the current search, if any) as CSV or JSON."""
    if fmt not in FORMATS:
        raise Http404(f"no {fmt} download: use csv or json")
    form = HistorySearchForm(request.GET)
    query = form.cleaned_data["q"].strip() if form.is_valid() else ""
    queryset = search_species(own_identifications(request.user), query)
    queryset = queryset.select_related("model_version").prefetch_related("photos")

    public_ids = dict(queryset.values_list("pk", "public_id"))

    def photo_url(photo: IdentificationPhoto) -> str:
        return request.build_absolute_uri(
            reverse("recognition:photo", args=[public_ids[photo.identification_id], photo.pk, "original"])
        )

    return history_download(queryset, fmt, photo_url)


@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Ask for confirmation (GET), then delete the identification and its files (POST)."""
    identification = get_object_or_404(own_identifications(request.user), public_id=public_id)
    if request.method == "POST":
        services.delete_identification(identification)
        messages.success(request, _("The identification and its photos were deleted."))
        return redirect("recognition:history")
    return render(request, "recognition/confirm_delete.html", {"identification": identification})


@require_POST
def feedback(request: HttpRequest, public_id: UUID) -> HttpResponse:
    """Keep the user's confirmation or correction and go back to the result."""
    identification = get_object_or_404(own_identifications(request.user), public_id=public_id)
    form = FeedbackForm(request.POST, labels=[c.label for c in identification.candidates.all()])
    if form.is_valid():
        data = form.cleaned_data
        services.record_feedback(identification, data["label"], data["species"], data["verdict"])
        services.set_share_confirmed_photos(request.user, form.cleaned_data["share"])
        messages.success(request, _("Thank you: your answer is kept with this identification."))
    else:
        for error in form.non_field_errors():
            messages.error(request, error)
    return redirect(reverse("recognition:detail", args=[public_id]) + "#feedback")


@require_POST
def preferences(request: HttpRequest) -> HttpResponse:
    """Save the account page's preferences (checkboxes: absent means off) and go back to it."""
    services.set_keep_photo_location(request.user, request.POST.get("keep_photo_location") == "on")
    services.set_share_confirmed_photos(request.user, request.POST.get("share_confirmed_photos") == "on")
    messages.success(request, _("Your preferences were saved."))
    return redirect("account")


@require_http_methods(["GET", "POST"])
def api_token(request: HttpRequest) -> HttpResponse:
    """List the user's API tokens; POST action=create (name, days) shows the new secret once, action=revoke (the
    token's ``digest``) or revoke_all deletes."""
    action = request.POST.get("action") if request.method == "POST" else None
    if action == "revoke":
        if tokens.revoke_token(request.user, request.POST.get("digest", "")):
            messages.success(request, _("The token was revoked: programs using it are refused from now on."))
        else:
            messages.error(request, _("You have no such token: it may have expired or been revoked already."))
        return redirect("recognition:api_token")
    if action == "revoke_all":
        count = tokens.revoke_all(request.user)
        messages.success(request, _("All your tokens were revoked (%(count)d).") % {"count": count})
        return redirect("recognition:api_token")
    if action not in (None, "create"):
        messages.error(request, _("Choose to create or to revoke a token."))
        return redirect("recognition:api_token")

    form, token, secret, status = ApiTokenForm(request.POST or None), None, None, 200
    if action == "create" and form.is_valid():
        if tokens.live_tokens(request.user).count() >= settings.API_TOKEN_LIMIT:
            form.add_error(
                None, _("You have %(limit)d tokens already: revoke one first.") % {"limit": settings.API_TOKEN_LIMIT}
            )
        else:
            token, secret = tokens.create_token(request.user, form.cleaned_data["name"], form.cleaned_data["days"])
    if action == "create" and secret is None:
        status = 400
    context = {"form": form, "tokens": tokens.live_tokens(request.user), "new_token": token, "secret": secret}
    return render(request, "recognition/api_token.html", context, status=status)
