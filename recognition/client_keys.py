"""Idempotent uploads: a device names each upload with a UUID of its own (``client_key``), so that sending it again
(its answer was lost, or two senders took the same waiting batch) finds the first identification instead of
starting a second one."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from .models import Identification

FIELD = "client_key"


def parse_client_key(value: object) -> UUID | None:
    """Return the upload's key as a UUID (None when absent or empty); raise ValidationError when it is no UUID."""
    if value is None or value == "":
        return None
    try:
        return UUID(str(value))
    except ValueError:
        raise ValidationError(
            _("The upload's key (client_key) must be a UUID such as %(example)s, or left out.")
            % {"example": "0f8fad5b-d9cb-469f-a165-70867728950e"},
            code="invalid_client_key",
        ) from None


def already_uploaded(owner: Any, key: UUID | None) -> Identification | None:
    """Return ``owner``'s identification started with ``key``, or None (always None without a key)."""
    if key is None:
        return None
    return Identification.objects.filter(owner=owner, client_key=key).first()
