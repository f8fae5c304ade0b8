"""Template helpers for the recognition pages."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.utils.translation import get_language

register = template.Library()


def wikipedia_url(name: str, language_code: str | None) -> str:
    """Return a Wikipedia search URL for ``name`` in the user's language (zh for Chinese, else en)."""
    lang = "zh" if (language_code or "").lower().startswith("zh") else "en"
    return f"https://{lang}.wikipedia.org/w/index.php?{urlencode({'search': name})}"


@register.simple_tag
def wikipedia(name: str) -> str:
    """Return a Wikipedia search URL for ``name`` in the active language."""
    return wikipedia_url(name, get_language())
