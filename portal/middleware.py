"""The portal's boundary. A customer's contact signed in to the portal reaches the portal, the signed
document links, the language switch and static files; any other page (the staff's, the admin) answers 404
as if it did not exist. And no shared proxy keeps any portal answer: errors and redirects included."""

from django.http import Http404
from django.shortcuts import redirect

from contracts.portal_access import portal_access_of
from portal.access import private

PORTAL = "/portal/"
OPEN_TO_CONTACTS = (PORTAL, "/i18n/", "/static/", "/q/", "/c/")


class PortalMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        user = getattr(request, "user", None)
        contact = user is not None and user.is_authenticated and not user.is_staff  # staff: no query
        if contact and not path.startswith(OPEN_TO_CONTACTS) and portal_access_of(user):
            if path == "/":
                return redirect("portal:home")
            raise Http404
        response = self.get_response(request)
        if path.startswith(PORTAL):
            private(response)
        return response
