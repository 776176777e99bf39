from django.urls import path

from quotes import staff_views, views

app_name = "quotes"
urlpatterns = [
    path("q/<str:token>/", views.answer, name="answer"),
    path("q/<str:token>/pdf", views.pdf, name="pdf"),
    path("staff/renewals/", staff_views.pipeline, name="pipeline"),
    path("staff/quotes/new", staff_views.quote_new, name="new"),
    path("staff/quotes/<int:pk>/", staff_views.quote_builder, name="builder"),
    path("staff/quotes/<int:pk>/lines", staff_views.quote_line_add, name="add-line"),
    path("staff/quotes/<int:pk>/travel", staff_views.quote_travel_add, name="add-travel"),
    path("staff/quotes/<int:pk>/discount", staff_views.quote_discount, name="discount"),
    path("staff/quotes/<int:pk>/approve", staff_views.quote_approve, name="approve"),
    path("staff/quotes/<int:pk>/pdf", staff_views.quote_pdf, name="staff-pdf"),
    path("staff/quotes/<int:pk>/<slug:step>", staff_views.quote_step, name="step"),
]
