"""The one domain exception: every business rule that refuses something raises it."""

from django.utils.functional import Promise


class BillingError(Exception):
    """A refused operation. ``code`` is stable for machines; ``message`` is translatable for people."""

    def __init__(self, message: str | Promise, *, code: str, params: dict | None = None):
        self.code = code
        self.params = params or {}
        self.message = message
        super().__init__(str(message) % self.params if self.params else str(message))

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)
