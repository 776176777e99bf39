"""Product versions ``major.minor.patch`` and what an upgrade between two of them is.

The vendor's terms name the three parts 大版本 (major), 中版本 (medium) and 小版本 (minor): in 8.5.2, 8 is
the major, 5 the medium and 2 the minor number. Minor and medium upgrades are part of standard service;
a major upgrade needs a separate upgrade contract.
"""

import re
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from billing.errors import BillingError

_VERSION = re.compile(r"^\s*[vV]?(\d{1,6})\.(\d{1,6})(?:\.(\d{1,6}))?\s*$")


@dataclass(frozen=True, order=True)
class Version:
    major: int
    medium: int
    minor: int = 0

    @classmethod
    def parse(cls, text: "str | Version") -> "Version":
        """Reads ``8.5.2`` (also ``V8.5.2``, and ``8.5`` as ``8.5.0``)."""
        if isinstance(text, Version):
            return text
        match = _VERSION.match(str(text))
        if not match:
            raise BillingError(
                _("“%(version)s” is not a version of the form major.medium.minor, such as 8.5.2."),
                code="invalid_version",
                params={"version": text},
            )
        major, medium, minor = match.groups()
        return cls(int(major), int(medium), int(minor or 0))

    def __str__(self) -> str:
        return f"{self.major}.{self.medium}.{self.minor}"


class UpgradeKind(models.TextChoices):
    NONE = "none", _("same version")
    MINOR = "minor", _("minor upgrade")
    MEDIUM = "medium", _("medium upgrade")
    MAJOR = "major", _("major upgrade")
    DOWNGRADE = "downgrade", _("downgrade")

    @property
    def included_in_standard_service(self) -> bool:
        """Minor and medium upgrades come with standard service; a major one needs its own contract."""
        return self in (UpgradeKind.NONE, UpgradeKind.MINOR, UpgradeKind.MEDIUM)


def upgrade_kind(from_version: "str | Version", to_version: "str | Version") -> UpgradeKind:
    """8.5.2 -> 8.5.3 is minor, 8.5.2 -> 8.6.0 medium, 8.x -> 9.0.0 major; going back is a downgrade."""
    old, new = Version.parse(from_version), Version.parse(to_version)
    if new == old:
        return UpgradeKind.NONE
    if new < old:
        return UpgradeKind.DOWNGRADE
    if new.major != old.major:
        return UpgradeKind.MAJOR
    if new.medium != old.medium:
        return UpgradeKind.MEDIUM
    return UpgradeKind.MINOR


def validate_version(value: str) -> None:
    """Model-field validator: the text must parse as a version."""
    from django.core.exceptions import ValidationError

    try:
        Version.parse(value)
    except BillingError as error:
        raise ValidationError(str(error), code=error.code) from error
