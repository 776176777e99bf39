from django.urls import path

from quotes import views

app_name = "quotes"
urlpatterns = [
    path("q/<str:token>/", views.answer, name="answer"),
    path("q/<str:token>/pdf", views.pdf, name="pdf"),
]
