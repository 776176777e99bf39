from django.urls import path

from portal import views

app_name = "portal"

urlpatterns = [
    path("", views.home, name="home"),
    path("sign-in", views.sign_in, name="sign-in"),
    path("enter", views.enter, name="enter"),
    path("sign-out", views.sign_out, name="sign-out"),
    path("language", views.language, name="language"),
    path("password", views.password, name="password"),
    path("coverage", views.coverage, name="coverage"),
    path("quotas", views.quotas, name="quotas"),
    path("quotes/", views.quotes, name="quotes"),
    path("quotes/request", views.quote_request_page, name="quote-request"),
    path("billing-details", views.billing_details, name="billing-details"),
    path("statement", views.statement, name="statement"),
    path("statement.pdf", views.statement_pdf_view, name="statement-pdf"),
    path("contacts", views.contacts, name="contacts"),
    path("quotes/<int:pk>", views.quote, name="quote"),
    path("quotes/<int:pk>.pdf", views.quote_pdf, name="quote-pdf"),
    path("charge-requests/", views.charge_requests, name="charge-requests"),
    path("charge-requests/<int:pk>", views.charge_request, name="charge-request"),
    path("invoices/", views.invoices, name="invoices"),
    path("invoices/<str:number>.pdf", views.invoice_pdf, name="invoice-pdf"),
]
