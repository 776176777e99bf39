from django.urls import path

from invoices import api, views

app_name = "invoices"
urlpatterns = [
    path("staff/invoice-runs/", views.runs, name="runs"),
    path("staff/invoice-runs/start", views.start_run, name="start-run"),
    path("staff/invoice-runs/<int:pk>/progress", views.run_progress, name="run-progress"),
]

api_urlpatterns = [
    path("work-logs", api.WorkLogView.as_view(), name="work-logs"),
]
