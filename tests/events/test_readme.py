"""The README lists every event type with an example payload, made from the registry (events.examples)."""

import pytest

from events.examples import EXAMPLES, README, example_envelope, readme_section
from events.services import event_record
from events.types import EVENT_TYPES


def test_every_event_type_has_an_example_and_every_example_a_type():
    assert list(EXAMPLES) == list(EVENT_TYPES)
    for event_type, data in EXAMPLES.items():
        assert isinstance(data.get("object"), dict), event_type


def test_the_readme_lists_every_event_type_as_generated():
    readme = README.read_text()
    for event_type in EVENT_TYPES:
        assert f"<code>{event_type}</code>" in readme, (
            f"{event_type} is missing: run python -m events.examples"
        )
    assert readme_section() in readme, "the README's event types are stale: run python -m events.examples"


@pytest.mark.django_db
def test_an_example_has_the_shape_of_a_recorded_event():
    event = event_record("quote.sent", customer_code="DEMO-ACTIVE", data=EXAMPLES["quote.sent"])
    recorded = event.envelope()
    example = example_envelope("quote.sent")
    assert list(example) == list(recorded)
    assert {key: example[key] for key in ("type", "version", "customer", "data")} == {
        key: recorded[key] for key in ("type", "version", "customer", "data")
    }
