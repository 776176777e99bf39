import pytest

from billing.apikeys import create_api_key


@pytest.fixture
def issue_key(db):
    """Issues a key; returns (ApiKey, raw key)."""

    def issue(*, name="Ticketing", scopes=(), **terms):
        return create_api_key(name=name, scopes=scopes, **terms)

    return issue
