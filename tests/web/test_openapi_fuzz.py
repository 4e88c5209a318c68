"""A property-based run of the JSON API against its own OpenAPI document (schemathesis).

For every operation, examples drawn from the schema (valid ones, then ones the
schema forbids, such as ids past their maximum or wrong types) are sent to the application
in-process with a real bearer token. No answer may be a server error, and every
answer must match the schema and content type the document gives for its status.
Bounded: ``EXAMPLES_PER_OPERATION`` examples each, derandomized so a run is repeatable.

(schemathesis's own pytest plugin reads a pytest attribute that pytest 9 removed, so
the operations are walked here and each is run as a Hypothesis test.)
"""

from __future__ import annotations

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

from tests.factories import make_submission

from .conftest import api_token

EXAMPLES_PER_OPERATION = 30
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]


@pytest.mark.parametrize("mode", [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE])
def test_the_api_keeps_to_its_schema_and_never_fails(app, learner, synced, mode):
    # Something to read: a graded submission of the learner's.
    make_submission(synced, user=learner, status="graded", score=1.0)
    headers = api_token(TestClient(app), learner)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8, [operation.label for operation in operations]

    for operation in operations:

        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy(generation_mode=mode))
        def run(case) -> None:
            case.call_and_validate(headers=headers, checks=CHECKS)

        try:
            run()
        except Unsatisfiable:
            # Nothing the schema forbids can be sent to an operation without inputs.
            assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label
