"""The per-process catalogue snapshot: kept for CATALOG_CACHE_SECONDS, dropped on a change."""

import pytest

from catalog import snapshot
from catalog.models import ServiceTier
from catalog.selectors import tier_by_id


def test_a_value_read_across_a_clear_is_not_kept():
    reads = []

    def load():
        reads.append(1)
        if len(reads) == 1:
            snapshot.clear()  # an admin's change lands while the rows are being read
        return len(reads)

    assert snapshot.cached(("probe",), load) == 1
    assert snapshot.cached(("probe",), load) == 2  # read again: the first read may be older than the change
    assert snapshot.cached(("probe",), load) == 2  # and now kept


@pytest.mark.django_db
def test_a_saved_catalogue_row_is_seen_at_once_by_this_process(catalogue, django_capture_on_commit_callbacks):
    tier = ServiceTier.objects.get(code="standard")
    assert tier_by_id(tier.pk).name == tier.name
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        tier.name_en = "Standard (renamed)"
        tier.save()
    assert callbacks  # cleared again when the change commits
    assert tier_by_id(tier.pk).name_en == "Standard (renamed)"


@pytest.mark.django_db
def test_a_row_added_elsewhere_is_found_by_reading_the_mapping_again(catalogue):
    first = ServiceTier.objects.get(code="standard")
    tier_by_id(first.pk)  # the mapping is now kept
    gold = ServiceTier(code="gold", name_zh="金牌", name_en="Gold", calendar_id=first.calendar_id)
    added = ServiceTier.objects.bulk_create([gold])[0]
    assert tier_by_id(added.pk).code == "gold"  # bulk_create sends no signal, as another process would not
