"""The 403 page: who is signed in, what the page needs in words, which roles hold it, and the way home.

``permission_required(..., raise_exception=True)`` raises PermissionDenied without a message, so what a
page needs is read from the view itself: the permissions its ``permission_required`` decorator checks
(kept in the decorator's closure, reached through the ``__wrapped__`` chain every Django view decorator
leaves). When they cannot be read (another decorator, a service's refusal) the page says so generically.
"""

from django.apps import apps
from django.conf import settings
from django.core.exceptions import FieldDoesNotExist, PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from billing.problems import FORBIDDEN, problem_response
from billing.roles import ROLES

API_PATH_PREFIX = "/api/"
PORTAL_PATH_PREFIX = "/portal/"
ACTIONS = {
    "add": _("add %(things)s"),
    "change": _("change %(things)s"),
    "delete": _("delete %(things)s"),
    "view": _("see %(things)s"),
}


def permissions_of_view(view) -> tuple[str, ...]:
    """The permissions a view's ``permission_required`` decorators check, outermost first."""
    found: list[str] = []
    seen: set[int] = set()
    while view is not None and id(view) not in seen:
        seen.add(id(view))
        for cell in getattr(view, "__closure__", None) or ():
            test = _cell(cell)
            if callable(test) and getattr(test, "__name__", "") == "check_perms":
                for inner in test.__closure__ or ():
                    perms = _cell(inner)
                    if isinstance(perms, tuple) and all(isinstance(perm, str) for perm in perms):
                        found.extend(perms)
        view = getattr(view, "__wrapped__", None)
    return tuple(dict.fromkeys(found))


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return None


def permission_text(permission: str) -> str:
    """A permission in words of the current language: "add travel expenses", or a custom permission's
    own (translated) name."""
    app_label, _sep, codename = permission.partition(".")
    try:
        config = apps.get_app_config(app_label)
    except LookupError:
        return permission
    for model in config.get_models():
        for code, name in model._meta.permissions:
            if code == codename:
                return str(name)
    action, _sep, model_name = codename.partition("_")
    try:
        model = config.get_model(model_name)
    except (LookupError, FieldDoesNotExist):
        return permission
    if action not in ACTIONS:
        return permission
    return str(ACTIONS[action] % {"things": model._meta.verbose_name_plural})


def roles_holding(permissions: tuple[str, ...]) -> list[str]:
    """The labels of the roles (billing.roles) that hold every one of ``permissions``."""
    return [
        str(label)
        for _code, (label, names) in ROLES.items()
        if names == "__all__" or all(permission in names for permission in permissions)
    ]


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    """handler403: for pages, what is missing and who is signed in; for the API, its problem+json."""
    if request.path_info.startswith(API_PATH_PREFIX):
        return problem_response(FORBIDDEN, detail=_("You may not do this."))
    if request.path_info.startswith(PORTAL_PATH_PREFIX):  # a customer's contact: the portal's own page
        reason = str(exception) if isinstance(exception, PermissionDenied) and exception.args else ""
        return render(request, "portal/403.html", {"reason": reason}, status=403)
    match = getattr(request, "resolver_match", None)
    needed = permissions_of_view(match.func) if match is not None else ()
    user = getattr(request, "user", None)
    missing = [perm for perm in needed if user is None or not user.has_perm(perm)] or list(needed)
    reason = str(exception) if isinstance(exception, PermissionDenied) and exception.args else ""
    context = {
        "missing": [permission_text(perm) for perm in missing],
        "roles": roles_holding(tuple(missing)) if missing else [],
        "reason": reason,
        "admin_contact": [address for _name, address in settings.ADMINS],
    }
    return render(request, "403.html", context, status=403)
