"""Idempotency keys for API writes: a retry with the same ``Idempotency-Key`` and body gets the first
answer and changes nothing; the same key with another body is refused with 409.

The record is inserted under a unique constraint in the same transaction as the work: a concurrent
request with the same key waits on that row (PostgreSQL) or on the write lock (SQLite), then finds the
answer and replays it. A request that fails rolls its record back with its work, so a retry runs again.
Records are kept for IDEMPOTENCY_KEEP_HOURS (at least 24).
"""

import datetime
import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.response import Response

from billing.errors import BillingError
from billing.problems import register_problem

MAX_KEY_LENGTH = 200


class IdempotencyConflict(BillingError):
    status = 409


register_problem(
    "idempotency-key-missing",
    status=400,
    title=_("Idempotency-Key required"),
    description=_("Writes that must not happen twice need an Idempotency-Key header, unique per operation."),
)
register_problem(
    "idempotency-key-too-long",
    status=400,
    title=_("Idempotency-Key too long"),
    description=_("An Idempotency-Key has at most 200 characters."),
)
register_problem(
    "idempotency-key-reused",
    status=409,
    title=_("Idempotency-Key reused"),
    description=_("The Idempotency-Key was already used with a different request body; use a new key."),
)


class IdempotencyRecord(models.Model):
    scope = models.CharField(_("scope"), max_length=100)
    key = models.CharField(_("idempotency key"), max_length=MAX_KEY_LENGTH)
    fingerprint = models.CharField(_("request fingerprint"), max_length=64)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    body = models.JSONField(_("response"), null=True, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        app_label = "billing"
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["scope", "key"], name="uniq_idempotency_key")]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


def idempotent(request, *, scope: str, run: Callable[[], Response]) -> Response:
    """Runs ``run`` once per (client, scope, Idempotency-Key); replays its answer for retries."""
    key = (request.headers.get("Idempotency-Key") or "").strip()
    if not key:
        raise BillingError(_("This request needs an Idempotency-Key header."), code="idempotency_key_missing")
    if len(key) > MAX_KEY_LENGTH:
        raise BillingError(
            _("An Idempotency-Key has at most %(max)s characters."),
            code="idempotency_key_too_long",
            params={"max": MAX_KEY_LENGTH},
        )
    client = getattr(request.auth, "pk", None) or "anonymous"
    full_scope = f"{scope}:{client}"
    fingerprint = _fingerprint(request)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(scope=full_scope, key=key, fingerprint=fingerprint)
            response = run()
            if response.status_code >= 500:
                transaction.set_rollback(True)
                return response
            record.status_code, record.body = response.status_code, response.data
            record.save(update_fields=["status_code", "body"])
            return response
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(scope=full_scope, key=key).first()
        if existing is None:
            raise
        return _replay(existing, fingerprint)


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyConflict(
            _("This Idempotency-Key was used with another request body."), code="idempotency_key_reused"
        )
    return Response(record.body, status=record.status_code, headers={"Idempotent-Replayed": "true"})


def _fingerprint(request) -> str:
    payload = json.dumps(
        {"method": request.method, "path": request.path, "body": request.data},
        sort_keys=True,
        default=str,
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()


def purge_idempotency_records(*, now: datetime.datetime | None = None) -> int:
    keep = datetime.timedelta(hours=max(settings.IDEMPOTENCY_KEEP_HOURS, 24))
    deleted, _by_model = IdempotencyRecord.objects.filter(
        created_at__lt=(now or timezone.now()) - keep
    ).delete()
    return deleted
