"""Template helpers for the recognition pages."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from ..services import wikipedia_url

register = template.Library()


@register.simple_tag
def wikipedia(name: str) -> str:
    """Return a Wikipedia search URL for ``name`` in the active language."""
    return wikipedia_url(name, get_language())
