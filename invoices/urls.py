from django.urls import path

from invoices import api

app_name = "invoices"
# Its pages are all staff pages: workspace/urls.py.
urlpatterns = []

api_urlpatterns = [
    path("work-logs", api.WorkLogView.as_view(), name="work-logs"),
    path("invoices/<str:number>/credit-notes", api.CreditNoteView.as_view(), name="credit-notes"),
    path("orders/<int:pk>", api.OrderView.as_view(), name="order"),
    path("orders/<int:pk>/close", api.OrderCloseView.as_view(), name="order-close"),
    path("orders/<int:pk>/cancel", api.OrderCancelView.as_view(), name="order-cancel"),
    path("customers/<slug:code>/statement", api.StatementView.as_view(), name="customer-statement"),
]
