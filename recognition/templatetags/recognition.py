"""Template helpers for the recognition pages."""

from __future__ import annotations

from django import template
from django.utils.translation import get_language

from ml.models import ModelVersion

from ..facts import CandidateFacts, SpeciesNames, candidate_facts, species_names, wikipedia_url
from ..models import Candidate, Identification

register = template.Library()


@register.simple_tag
def wikipedia(name: str) -> str:
    """Return a Wikipedia search URL for ``name`` in the active language."""
    return wikipedia_url(name, get_language())


@register.simple_tag
def species_facts(candidate: Candidate, version: ModelVersion | None) -> CandidateFacts:
    """Return the candidate's species facts in the active language (``{% species_facts c v as facts %}``)."""
    return candidate_facts(candidate, version, get_language())


@register.simple_tag
def candidate_names(candidate: Candidate, version: ModelVersion | None) -> SpeciesNames:
    """Return the candidate's names in the active language (``{% candidate_names c v as names %}``)."""
    return species_names(version, candidate.label, candidate.display_name, get_language())


@register.simple_tag
def feedback_names(identification: Identification) -> SpeciesNames | None:
    """Return the names of the species the user confirmed (in the active language) or typed; None without one."""
    if identification.feedback_text:
        return SpeciesNames(scientific=identification.feedback_text)
    if not identification.feedback_label:
        return None
    match = next((c for c in identification.candidates.all() if c.label == identification.feedback_label), None)
    display_name = match.display_name if match else identification.feedback_label
    return species_names(identification.model_version, identification.feedback_label, display_name, get_language())
