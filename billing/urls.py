from django.contrib import admin
from django.urls import include, path
from django.utils.translation import gettext_lazy as _

from billing import views

admin.site.site_header = _("After-sales contracts and billing")
admin.site.site_title = _("After-sales billing")
admin.site.index_title = _("Set-up")

urlpatterns = [
    path("", views.home, name="home"),
    path("catalogue/", include("catalog.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
