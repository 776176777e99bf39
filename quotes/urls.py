from django.urls import path

from quotes import views

# The customer's pages of the namespace; its staff pages are in workspace/urls.py (billing/urls.py joins
# them under the one namespace).
app_name = "quotes"
urlpatterns = [
    path("q/<str:token>/", views.answer, name="answer"),
    path("q/<str:token>/pdf", views.pdf, name="pdf"),
]
