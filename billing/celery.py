"""The Celery app. With no CELERY_BROKER_URL, tasks run eagerly in the calling process."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing.settings")

app = Celery("billing")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


_links = {}  # task id -> the context of billing.mail.links_to it runs in


@task_prerun.connect
def _links_of_the_sending_request(task_id=None, task=None, **_kwargs):
    """A task sent during a request makes its links to the address that request reached."""
    from billing.mail import TASK_HEADER, links_to

    request = getattr(task, "request", None)
    address = getattr(request, TASK_HEADER, None) or (getattr(request, "headers", None) or {}).get(
        TASK_HEADER
    )
    if address:
        _links[task_id] = links_to(address)
        _links[task_id].__enter__()


@task_postrun.connect
def _links_back(task_id=None, **_kwargs):
    context = _links.pop(task_id, None)
    if context is not None:
        context.__exit__(None, None, None)
