"""Audit history (django-simple-history): who changed a document that holds money or a status, what changed
and when.

Every ``save()`` and ``delete()`` of a model with ``history = audit_history()`` adds a historical row, with
the staff user of the request that made the change (``HistoryRequestMiddleware``), or none for tasks and
API clients; a change made through the API names the API key in its change reason instead (a key is no
user). ``queryset.update()`` and ``bulk_create()`` send no signals: services that use them, for speed
or for a conditional write under concurrency, record the history with ``history_record`` in the same
transaction.

History is read in the admin (billing.admin.AuditHistoryAdmin), by administrators only.
"""

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import EmptyResultSet
from django.db import connections, models
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.models import HistoricalRecords
from simple_history.utils import get_history_model_for_model

CREATED, CHANGED = "+", "~"


def history_user(request=None, **kwargs) -> AbstractBaseUser | None:
    """The user a change is recorded for: the logged-in staff user; not an API client, which DRF puts on
    ``request.user`` too (the API key is no user)."""
    user = getattr(request, "user", None)
    return user if isinstance(user, AbstractBaseUser) and user.is_authenticated else None


def api_change_reason() -> str:
    """For a change made in an API request: the key that made it (set on the request by
    ``billing.apikeys.ApiKeyAuthentication``); empty otherwise."""
    request = getattr(HistoricalRecords.context, "request", None)
    api_key = getattr(request, "api_key", None)
    if api_key is None:
        return ""
    return api_key_reason(api_key)


def api_key_reason(api_key) -> str:
    """The change reason that names an API key (billing.models.ApiKey) as the author of a change."""
    return (_("API key %(prefix)s (%(name)s)") % {"prefix": api_key.prefix, "name": api_key.name})[:100]


def note_api_client(*, history_instance, **_kwargs) -> None:
    """``pre_create_historical_record``: a change without a reason of its own, made through the API, is
    recorded with the key that made it."""
    if not history_instance.history_change_reason:
        history_instance.history_change_reason = api_change_reason() or None


def audit_history(**options) -> HistoricalRecords:
    """``HistoricalRecords`` as every audited model of the project declares it."""
    return HistoricalRecords(get_user=history_user, **options)


def history_record(queryset: models.QuerySet, *, history_type: str = CHANGED, reason: str = "") -> int:
    """Copies the rows of ``queryset`` as they are now in the database into their history, in one
    ``INSERT ... SELECT`` (no row is loaded into Python: this keeps bulk imports at bulk speed). Use it after
    ``queryset.update()`` (``CHANGED``) or ``bulk_create()`` (``CREATED``). Returns the rows recorded."""
    if not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return 0
    history = get_history_model_for_model(queryset.model)
    connection = connections[queryset.db]
    quote = connection.ops.quote_name
    columns = [field.column for field in history.tracked_fields]
    try:
        select_sql, select_params = (
            queryset.order_by().values_list(*[field.attname for field in history.tracked_fields]).query
        ).sql_with_params()
    except EmptyResultSet:  # e.g. pk__in=[]
        return 0
    history_columns = [*columns, "history_date", "history_user_id", "history_type", "history_change_reason"]
    sql = (
        f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(quote(c) for c in history_columns)}) "
        f"SELECT {', '.join('audited.' + quote(c) for c in columns)}, %s, %s, %s, %s "
        f"FROM ({select_sql}) audited"
    )
    user = history.get_default_history_user(None)
    params = [
        connection.ops.adapt_datetimefield_value(timezone.now()),
        user.pk if user is not None else None,
        history_type,
        (reason or api_change_reason())[:100],
        *select_params,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount
