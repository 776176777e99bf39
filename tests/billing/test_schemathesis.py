"""The API against its own published schema (/api/schema/), by Schemathesis: generated requests, valid and
invalid, to every operation with a key holding every scope and the demo customers present. No answer may
be a 5xx, and every answer must be one the schema declares: its status, its content type (problem+json for
errors) and its body.

Two runs, both bounded. The fixed one (derandomized, few examples per operation) runs in `make test` in
about a minute on SQLite. The random one runs only when SCHEMATHESIS_SEED is set, as `.ci/run` does with a
new seed each time and prints it: `SCHEMATHESIS_SEED=<seed> pytest tests/billing/test_schemathesis.py`
generates the same requests again.
"""

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, seed, settings
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import negated_parameters
from schemathesis.specs.openapi.checks import positive_data_acceptance

from billing.apikeys import SCOPES, create_api_key
from contracts import demo

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 40
RANDOM_SEED = os.environ.get("SCHEMATHESIS_SEED")
RANDOM_EXAMPLES_PER_OPERATION = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "100"))
HEADER = ParameterLocation.HEADER


# The schema as served, through the Django WSGI application (serving it needs no database).
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


@pytest.fixture
def api_key(catalogue) -> str:
    """A key holding every scope, with the demo customers present. The application runs inside the test's
    transaction, as under Django's test client: the handlers that close stale connections at the start
    and end of each request are off meanwhile, since closing the connection would end the transaction."""
    demo.load()
    _key, raw = create_api_key(name="schemathesis", scopes=SCOPES)
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield raw
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def call_and_validate(case, api_key: str) -> None:
    # The key goes on every request but those generated without a valid Authorization header on purpose
    # (they must be answered 401).
    negated = {name.lower() for name, location in negated_parameters(case.meta) if location == HEADER}
    if "authorization" not in negated:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {api_key}"}
    # Every check but one: a schema-valid body may name a customer or service that does not exist, which
    # is answered 422, and no schema can say which codes exist. The request examples use demo customers.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_every_answer_is_one_the_schema_declares_and_none_is_a_server_error(case, api_key):
    call_and_validate(case, api_key)


@pytest.mark.skipif(RANDOM_SEED is None, reason="the random run needs SCHEMATHESIS_SEED (.ci/run sets it)")
@schema.parametrize()
@seed(int(RANDOM_SEED or 0))
@settings(
    max_examples=RANDOM_EXAMPLES_PER_OPERATION,
    derandomize=False,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_with_a_random_seed_no_answer_is_a_server_error_or_undeclared(case, api_key):
    try:
        call_and_validate(case, api_key)
    except Exception as failure:
        failure.add_note(f"Reproduce with SCHEMATHESIS_SEED={RANDOM_SEED}")
        raise
