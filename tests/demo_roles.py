"""The demo as `manage.py load_demo` makes it, for tests through the admin's and the pages' HTTP views:
the demo customers, one staff user per role (named after the role) and the demo work in progress."""

from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.db import transaction

from billing.errors import BillingError
from billing.roles import ROLES, sync_roles
from contracts import demo as contracts_demo
from invoices import demo as invoices_demo


def load_demo(user_model) -> dict:
    """The role users by role name, after the demo customers and their work are loaded."""
    contracts_demo.load()
    sync_roles()
    users = {}
    for role in ROLES:
        user = user_model.objects.create_user(username=role, email=f"{role}@example.com", is_staff=True)
        user.groups.set(Group.objects.filter(name=role))
        users[role] = user_model.objects.get(pk=user.pk)
    invoices_demo.load_work()
    return users


def management(prefix: str, initial: int = 0, total: int | None = None) -> dict:
    """The management form of an inline formset with ``initial`` stored rows."""
    return {
        f"{prefix}-TOTAL_FORMS": str(initial if total is None else total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def log_in(client, user):
    """Logs ``user`` in; the pages answer in English, so tests read the English text."""
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(user)
    return client


class _Rollback(Exception):
    pass


def service_accepts(action) -> bool:
    """Whether ``action()`` (a service call) goes through without a BillingError; nothing it did is kept."""
    try:
        with transaction.atomic():
            action()
            raise _Rollback
    except _Rollback:
        return True
    except BillingError:
        return False
