"""What every portal page does first: the signed-in contact's access, its language, its role, and headers
that keep a shared proxy from storing the page. Every portal query starts from ``request.portal.customer``,
so another customer's object is simply not found (404)."""

import functools

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers, patch_cache_control, patch_vary_headers
from django.utils.http import urlencode
from django.utils.translation import gettext

from contracts.portal_access import portal_access_of


def private(response):
    """No shared cache keeps a portal page: private, never stored, varying by the session cookie."""
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    patch_vary_headers(response, ["Cookie"])
    return response


def portal_page(role: str | None = None):
    """A view for a signed-in contact (others go to the sign-in page) holding ``role`` (403 otherwise)."""

    def decorate(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            access = portal_access_of(request.user)
            if access is None:
                target = reverse("portal:sign-in") + "?" + urlencode({"next": request.get_full_path()})
                return private(redirect(target))
            request.portal = access
            translation.activate(access.language)
            request.LANGUAGE_CODE = access.language
            if role is not None and not access.has_role(role):
                raise PermissionDenied(
                    gettext("Your portal roles do not include this page: ask your portal admin.")
                )
            return private(view(request, *args, **kwargs))

        return wrapped

    return decorate
