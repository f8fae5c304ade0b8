"""Schemathesis over /v2/ (its OpenAPI at /v2/openapi.json) with an api-key: no 5xx, every answer JSON,
every status documented and every body as documented; a minute or two in all."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import ignored_auth, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from plantsite.wsgi import application
from recognition.tokens import create_token

from .conftest import active_model  # noqa: F401  (fixture)

# WSGI requests close the database connection when they finish: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)
CHECKS = [not_a_server_error, content_type_conformance, status_code_conformance, response_schema_conformance]


def _property_test(operation, key: str):
    """Return a Hypothesis test that sends generated requests for ``operation`` with the key and checks each answer."""

    @given(case=operation.as_strategy())
    @settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck), database=None, derandomize=True)
    def answers_as_documented(case):
        case.query = {**(case.query or {}), "api-key": key}
        response = case.call()
        content_type = response.headers.get("content-type", [""])[0]  # lower-case names, lists of values
        assert content_type.startswith("application/json"), (
            f"{response.status_code} {content_type}: {response.text[:200]}"
        )
        case.validate_response(response, checks=CHECKS, excluded_checks=[ignored_auth])

    return answers_as_documented


@pytest.mark.usefixtures("active_model")
def test_v2_answers_every_generated_request_in_json_as_documented(user, settings):
    settings.RECOGNITION_UPLOAD_RATE = "100000/hour"  # the quota is not what this test explores
    cache.clear()
    key = create_token(user, "test")[1]
    schema = schemathesis.openapi.from_wsgi("/v2/openapi.json", application)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 10

    failures = []
    for operation in operations:
        try:
            _property_test(operation, key)()
        except Exception as exc:  # every operation's failure in one report
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
