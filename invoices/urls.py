from django.urls import path

from invoices import api

api_urlpatterns = [
    path("work-logs", api.WorkLogView.as_view(), name="work-logs"),
]
