from django.urls import path

from quotes import staff_views, views

app_name = "quotes"
urlpatterns = [
    path("q/<str:token>/", views.answer, name="answer"),
    path("q/<str:token>/pdf", views.pdf, name="pdf"),
    path("staff/renewals/", staff_views.pipeline, name="pipeline"),
]
