"""The API against its own published schema (/api/schema/), by Schemathesis: generated requests, valid and
invalid, to every operation with a key holding every scope and the demo customers present. No answer may
be a 5xx, and every answer must be one the schema declares: its status, its content type (problem+json for
errors) and its body.

Bounded and deterministic: few examples per operation, derandomized, so it runs in `make test` in about a
minute on SQLite.
"""

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from billing.apikeys import SCOPES, create_api_key
from contracts import demo

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 40


# The schema as served, through the Django WSGI application (serving it needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def api_key(catalogue) -> str:
    """A key holding every scope, with the demo customers present; the application runs inside the test's
    transaction."""
    demo.load()
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    _key, raw = create_api_key(name="schemathesis", scopes=SCOPES)
    yield raw
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_one_the_schema_declares_and_none_is_a_server_error(case, api_key):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {api_key}"}, excluded_checks=[positive_data_acceptance]
    )
