import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from billing.errors import BillingError
from catalog.versions import UpgradeKind, Version, upgrade_kind, validate_version


@pytest.mark.parametrize(
    ("old", "new", "kind"),
    [
        ("8.5.2", "8.5.3", UpgradeKind.MINOR),
        ("8.5.2", "8.6.0", UpgradeKind.MEDIUM),
        ("8.5.2", "8.10.0", UpgradeKind.MEDIUM),
        ("8.5.2", "9.0.0", UpgradeKind.MAJOR),
        ("8.9.9", "10.0.0", UpgradeKind.MAJOR),
        ("8.5.2", "8.5.2", UpgradeKind.NONE),
        ("8.6.0", "8.5.2", UpgradeKind.DOWNGRADE),
        ("V8.5", "8.5.0", UpgradeKind.NONE),
    ],
)
def test_upgrade_kind_follows_the_terms_version_parts(old, new, kind):
    assert upgrade_kind(old, new) == kind


def test_minor_and_medium_upgrades_are_standard_service_and_major_is_not():
    assert upgrade_kind("8.5.2", "8.6.0").included_in_standard_service
    assert upgrade_kind("8.5.2", "8.5.9").included_in_standard_service
    assert not upgrade_kind("8.5.2", "9.0.0").included_in_standard_service
    assert not UpgradeKind.DOWNGRADE.included_in_standard_service


def test_versions_compare_numerically_not_as_text():
    assert Version.parse("8.10.0") > Version.parse("8.9.9")
    assert sorted(map(Version.parse, ["9.0.0", "8.10.1", "8.5.2", "8.10.0"])) == [
        Version(8, 5, 2),
        Version(8, 10, 0),
        Version(8, 10, 1),
        Version(9, 0, 0),
    ]


@pytest.mark.parametrize("text", ["", "8", "8.x.1", "8.5.2.1", "latest", "-1.0.0"])
def test_malformed_versions_are_refused_with_a_clear_error(text):
    with pytest.raises(BillingError) as error:
        Version.parse(text)
    assert error.value.code == "invalid_version"
    with pytest.raises(ValidationError):
        validate_version(text)


@given(st.tuples(*[st.integers(0, 999)] * 3), st.tuples(*[st.integers(0, 999)] * 3))
def test_upgrade_kind_agrees_with_the_order_of_versions(a, b):
    old, new = Version(*a), Version(*b)
    assert Version.parse(str(old)) == old
    kind = upgrade_kind(old, new)
    assert (kind == UpgradeKind.NONE) == (old == new)
    assert (kind == UpgradeKind.DOWNGRADE) == (new < old)
    if new > old:
        assert (kind == UpgradeKind.MAJOR) == (new.major != old.major)
