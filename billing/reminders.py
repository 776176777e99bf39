"""Remind once per step, for renewals (90, 60, 30 days before a period ends) and overdue invoices (1, 30,
60, 90 days past due): each step of a document is one unique row, so a rerun (or a concurrent run) sends
nothing twice, and the steps missed while the task did not run go out together in one e-mail."""

from collections.abc import Callable, Iterable

from django.db import IntegrityError, models, transaction


def remind_once_per_step(
    *,
    model: type[models.Model],
    document_field: str,
    step_field: str,
    document: models.Model,
    steps_due: Iterable[int],
    send: Callable[[list[models.Model]], object],
) -> list[models.Model]:
    """Records each of ``steps_due`` not recorded before for ``document`` (a ``model`` row unique on
    ``document_field`` and ``step_field``, each in its own transaction) and calls ``send`` once with the
    new rows when there are any. Returns the new rows."""
    new = []
    for step in steps_due:
        try:
            with transaction.atomic():
                new.append(model.objects.create(**{document_field: document, step_field: step}))
        except IntegrityError:
            continue  # this step was recorded before
    if new:
        send(new)
    return new
