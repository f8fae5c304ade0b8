"""Template helpers for the recognition pages."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from ml.models import ModelVersion

from ..facts import CandidateFacts, candidate_facts, wikipedia_url
from ..models import Candidate

register = template.Library()


@register.simple_tag
def wikipedia(name: str) -> str:
    """Return a Wikipedia search URL for ``name`` in the active language."""
    return wikipedia_url(name, get_language())


@register.simple_tag
def species_facts(candidate: Candidate, version: ModelVersion | None) -> CandidateFacts:
    """Return the candidate's species facts in the active language (``{% species_facts c v as facts %}``)."""
    return candidate_facts(candidate, version, get_language())
