"""Schemathesis against /api/schema/ (the REST API and the Pl@ntNet-compatible /v2/) with a token: valid and
invalid generated requests never get a 5xx, every error is JSON with a message, valid ones are answered as
the schema says."""

from __future__ import annotations

import json

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import ignored_auth, not_a_server_error
from schemathesis.specs.openapi.checks import positive_data_acceptance

from plantsite.wsgi import application
from recognition.tokens import create_token

from .conftest import active_model  # noqa: F401  (fixture)

# WSGI requests close the database connection when they finish: the rows must be committed.
pytestmark = pytest.mark.django_db(transaction=True)
# Bounded: about a minute per mode on two busy cores.
EXAMPLES = {GenerationMode.POSITIVE: 20, GenerationMode.NEGATIVE: 20}


def errors_are_json(ctx, response, case) -> None:
    """An error answer (4xx, 5xx) is a JSON object with a ``message`` that says what went wrong."""
    if response.status_code < 400:
        return None
    content_type = {name.lower(): value for name, value in response.headers.items()}.get("content-type", [""])
    content_type = content_type[0] if isinstance(content_type, list) else content_type
    assert content_type.startswith("application/json"), f"{response.status_code} answered as {content_type!r}"
    body = json.loads(response.content)
    assert isinstance(body, dict) and body.get("message"), f"{response.status_code} without a message: {body!r}"
    return None


def _property_test(operation, key: str, mode: GenerationMode):
    """Return a Hypothesis test that sends generated requests for ``operation`` and checks each answer."""
    if mode is GenerationMode.NEGATIVE:
        # invalid requests: whatever the API makes of them, never a 5xx and errors in JSON
        checks = {"checks": [not_a_server_error, errors_are_json]}
    else:
        # ignored_auth cannot judge a fixed token; and a schema cannot say "a decodable photo", so generated
        # files that satisfy it are still (rightly) refused by the upload.
        excluded = [ignored_auth, *([positive_data_acceptance] if operation.method == "post" else [])]
        checks = {"additional_checks": [errors_are_json], "excluded_checks": excluded}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES[mode],
        deadline=None,
        suppress_health_check=list(HealthCheck),
        database=None,
        derandomize=True,
    )
    def answers_as_documented(case):
        if case.path.startswith("/v2/"):  # Pl@ntNet's views take the token only as api-key
            case.query = {**(case.query or {}), "api-key": key}
        case.call_and_validate(headers={"Authorization": f"Token {key}"}, **checks)

    return answers_as_documented


@pytest.mark.usefixtures("active_model")
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=lambda mode: mode.value)
def test_the_api_answers_every_generated_request_as_its_schema_says(user, mode):
    _, key = create_token(user, "schemathesis")
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers={"Authorization": f"Token {key}"})
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 6 and {"/v2/projects/", "/v2/identify/{project}/"} <= {op.path for op in operations}

    if mode is GenerationMode.NEGATIVE:  # an operation without parameters or body has nothing to make invalid
        operations = [op for op in operations if any((op.path_parameters, op.query, op.body))]
    failures = []
    for operation in operations:
        try:
            _property_test(operation, key, mode)()
        except Exception as exc:  # every operation's failure in one report
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
