from django.urls import path

from invoices import api, finance_views, statement_views, views

app_name = "invoices"
urlpatterns = [
    path("staff/invoice-runs/", views.runs, name="runs"),
    path("staff/invoice-runs/start", views.start_run, name="start-run"),
    path("staff/invoice-runs/<int:pk>/progress", views.run_progress, name="run-progress"),
    path("staff/customers/<slug:code>/", views.customer_page, name="customer"),
    path("staff/orders/<int:pk>/", views.order_page, name="order"),
    path("staff/orders/<int:pk>/close", views.order_close_view, name="close-order"),
    path("staff/orders/<int:pk>/cancel", views.order_cancel_view, name="cancel-order"),
    path(
        "staff/customers/<slug:code>/consumption/<int:pk>/correct",
        views.consumption_correct_view,
        name="correct-consumption",
    ),
    path("staff/customers/<slug:code>/statement", statement_views.statement, name="statement"),
    path(
        "staff/customers/<slug:code>/statement.pdf", statement_views.statement_pdf_view, name="statement-pdf"
    ),
    path(
        "staff/customers/<slug:code>/statement/send",
        statement_views.statement_send_view,
        name="statement-send",
    ),
    path("staff/quotes/", views.quotes_by_state, name="quotes"),
    path("staff/charts/", views.charts, name="charts"),
    path("staff/charges/", finance_views.unbilled_charges, name="charges"),
    path("staff/charges/collect", finance_views.charges_collect_view, name="collect-charges"),
    path("staff/invoices/", finance_views.invoice_list, name="invoices"),
    path("staff/invoices/<int:pk>/", finance_views.invoice_detail, name="invoice"),
    path("staff/invoices/<int:pk>/issue", finance_views.invoice_issue_view, name="issue"),
    path("staff/invoices/<int:pk>/delete", finance_views.invoice_delete_view, name="delete"),
    path(
        "staff/invoices/<int:pk>/lines/<int:line_pk>/remove",
        finance_views.invoice_remove_line_view,
        name="remove-line",
    ),
    path("staff/invoices/<int:pk>/payments", finance_views.payment_record_view, name="record-payment"),
    path("staff/invoices/<int:pk>/credit", finance_views.credit_note_view, name="credit"),
    path("staff/invoices/<int:pk>/pdf", finance_views.invoice_pdf, name="pdf"),
    path("staff/payments/", finance_views.payments, name="payments"),
    path("staff/travel/", finance_views.travel_expenses, name="travel"),
    path("staff/travel/<int:pk>/approve", finance_views.travel_expense_approve_view, name="approve-travel"),
    path("staff/overdue/", finance_views.overdue, name="overdue"),
    path("staff/exports/", finance_views.exports, name="exports"),
]

api_urlpatterns = [
    path("work-logs", api.WorkLogView.as_view(), name="work-logs"),
    path("invoices/<str:number>/credit-notes", api.CreditNoteView.as_view(), name="credit-notes"),
    path("orders/<int:pk>", api.OrderView.as_view(), name="order"),
    path("orders/<int:pk>/close", api.OrderCloseView.as_view(), name="order-close"),
    path("orders/<int:pk>/cancel", api.OrderCancelView.as_view(), name="order-cancel"),
    path("customers/<slug:code>/statement", api.StatementView.as_view(), name="customer-statement"),
]
