"""The /health/ check for the model: an active version whose checkpoint file is there."""

from __future__ import annotations

from django.db import DatabaseError

from plantsite.health import Unhealthy, register

from . import versions


@register("model")
def active_model() -> dict:
    """Return the active model's name; raise Unhealthy when none is active or its file is gone."""
    try:
        version = versions.serving_version()
    except DatabaseError as exc:
        raise Unhealthy("the active model cannot be read: the database does not answer") from exc
    except versions.RegistryError as exc:
        raise Unhealthy(str(exc)) from exc
    return {"name": version.name}
