from django.urls import path

from invoices import api, views

app_name = "invoices"
urlpatterns = [
    path("staff/invoice-runs/", views.runs, name="runs"),
    path("staff/invoice-runs/start", views.start_run, name="start-run"),
    path("staff/invoice-runs/<int:pk>/progress", views.run_progress, name="run-progress"),
    path("staff/customers/<slug:code>/", views.customer_page, name="customer"),
    path("staff/quotes/", views.quotes_by_state, name="quotes"),
    path("staff/charts/", views.charts, name="charts"),
]

api_urlpatterns = [
    path("work-logs", api.WorkLogView.as_view(), name="work-logs"),
]
