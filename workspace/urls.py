"""Every staff page, under /staff/. The patterns keep the names and namespaces they had when they lived in
their apps (`invoices:issue`, `quotes:builder`, `contracts:entitlement-lookup`, `staff-home`), so links in
e-mails, bookmarks and templates keep working: billing/urls.py joins each namespace's staff patterns with
the app's own (customer-facing) ones under that namespace."""

from django.urls import path

from workspace import (
    bulk_views,
    contract_lists,
    contract_views,
    customer_lists,
    fapiao_batch_views,
    fapiao_import_views,
    fapiao_setup_views,
    finance_lists,
    finance_views,
    home_views,
    portal_access_views,
    quote_lists,
    quote_views,
    record_views,
    red_letter_views,
    setup_views,
    statement_views,
    views,
)

urlpatterns = [
    path("staff/", home_views.staff_home, name="staff-home"),
    path("staff/second-factor/", home_views.second_factor_verify_page, name="second-factor-verify"),
    path("staff/second-factor/enrol", home_views.second_factor_enrol_page, name="second-factor-enrol"),
]

contracts_urlpatterns = [
    path("staff/entitlements/", contract_views.entitlement_lookup, name="entitlement-lookup"),
    path("staff/charge-requests/", contract_lists.ChargeRequestList.as_view(), name="charge-requests"),
    path(
        "staff/charge-requests/<int:pk>/decide",
        contract_views.charge_request_decide,
        name="charge-request-decide",
    ),
    path("staff/customers/new", setup_views.customer_new, name="customer-new"),
    path("staff/customers/import", setup_views.setup_import_page, name="customer-import"),
    path(
        "staff/customers/import/<slug:kind>.<slug:suffix>",
        setup_views.setup_import_template,
        name="customer-import-template",
    ),
    path("staff/customers/<slug:code>/edit", setup_views.customer_edit, name="customer-edit"),
    path("staff/customers/<slug:code>/fapiao", fapiao_setup_views.fapiao_details_page, name="fapiao-details"),
    path("staff/customers/<slug:code>/portal", portal_access_views.portal_access_page, name="portal-access"),
    path("staff/customers/<slug:code>/contacts/new", setup_views.contact_new, name="contact-new"),
    path("staff/customers/<slug:code>/contracts/new", setup_views.contract_new, name="contract-new"),
    path("staff/contacts/<int:pk>/edit", setup_views.contact_edit, name="contact-edit"),
    path("staff/contracts/<int:pk>/periods/new", setup_views.period_new, name="period-new"),
    path("staff/contracts/", contract_lists.ContractList.as_view(), name="contracts"),
    path("staff/periods/", contract_lists.PeriodList.as_view(), name="periods"),
    path("staff/charge-requests/<int:pk>/", contract_views.charge_request_page, name="charge-request"),
]

quotes_urlpatterns = [
    path("staff/renewals/", quote_lists.PipelineList.as_view(), name="pipeline"),
    path("staff/quotes/new", quote_views.quote_new, name="new"),
    path("staff/quotes/<int:pk>/", quote_views.quote_builder, name="builder"),
    path("staff/quotes/<int:pk>/lines", quote_views.quote_line_add, name="add-line"),
    path("staff/quotes/<int:pk>/travel", quote_views.quote_travel_add, name="add-travel"),
    path("staff/quotes/<int:pk>/discount", quote_views.quote_discount, name="discount"),
    path("staff/quotes/<int:pk>/approve", quote_views.quote_approve, name="approve"),
    path("staff/quotes/<int:pk>/pdf", quote_views.quote_pdf, name="staff-pdf"),
    path("staff/quotes/<int:pk>/<slug:step>", quote_views.quote_step, name="step"),
    path("staff/quotes/<int:pk>/lines/<int:line_pk>/", quote_views.quote_line_change, name="change-line"),
    path(
        "staff/quotes/<int:pk>/lines/<int:line_pk>/remove", quote_views.quote_line_remove, name="remove-line"
    ),
    path("staff/renewals/<int:period_pk>/quote", quote_views.renewal_quote_draft, name="draft-renewal"),
]

invoices_urlpatterns = [
    path("staff/invoice-runs/", finance_lists.RunList.as_view(), name="runs"),
    path("staff/invoice-runs/start", views.start_run, name="start-run"),
    path("staff/invoice-runs/<int:pk>/progress", views.run_progress, name="run-progress"),
    path("staff/customers/", customer_lists.CustomerList.as_view(), name="customers"),
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
    path("staff/quotes/", quote_lists.QuoteList.as_view(), name="quotes"),
    path("staff/charts/", views.charts, name="charts"),
    path("staff/charges/", finance_lists.ChargeList.as_view(), name="charges"),
    path("staff/charges/collect", finance_views.charges_collect_view, name="collect-charges"),
    path("staff/invoices/", finance_lists.InvoiceList.as_view(), name="invoices"),
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
    # red letter (红字) of a credit note against an invoice with a fapiao: workspace.red_letter_views
    path("staff/fapiao/red-letter/", red_letter_views.RedLetterList.as_view(), name="red-letter-requests"),
    path(
        "staff/invoices/<int:pk>/red-letter/start",
        red_letter_views.red_letter_start_view,
        name="red-letter-start",
    ),
    path(
        "staff/invoices/<int:pk>/red-letter/reason",
        red_letter_views.red_letter_reason_view,
        name="red-letter-reason",
    ),
    path(
        "staff/invoices/<int:pk>/red-letter/form.xlsx",
        red_letter_views.red_letter_form_download,
        name="red-letter-form",
    ),
    path(
        "staff/invoices/<int:pk>/red-letter/form",
        red_letter_views.red_letter_form_record_view,
        name="red-letter-record",
    ),
    path(
        "staff/invoices/<int:pk>/red-letter/red",
        red_letter_views.red_letter_red_record_view,
        name="red-letter-red",
    ),
    path(
        "staff/invoices/<int:pk>/red-letter/replace",
        red_letter_views.red_letter_replace_view,
        name="red-letter-replace",
    ),
    path("staff/payments/", finance_lists.PaymentList.as_view(), name="payments"),
    path("staff/travel/", finance_lists.TravelList.as_view(), name="travel"),
    path("staff/travel/<int:pk>/approve", finance_views.travel_expense_approve_view, name="approve-travel"),
    path("staff/overdue/", finance_lists.OverdueList.as_view(), name="overdue"),
    path("staff/work-logs/", finance_lists.WorkLogList.as_view(), name="work-logs"),
    path("staff/exports/", finance_views.exports, name="exports"),
    path("staff/invoices/bulk/issue", bulk_views.invoices_issue_view, name="bulk-issue"),
    path("staff/overdue/bulk/remind", bulk_views.overdue_remind_view, name="bulk-remind"),
    path("staff/travel/bulk", bulk_views.travel_expenses_decide_view, name="bulk-travel"),
    path("staff/work-logs/bulk", bulk_views.work_logs_decide_view, name="bulk-work-logs"),
    path("staff/fapiao/", fapiao_batch_views.FapiaoNeededList.as_view(), name="fapiao"),
    path("staff/fapiao/export", fapiao_batch_views.fapiao_export_view, name="fapiao-export"),
    path("staff/fapiao/batches/", fapiao_batch_views.FapiaoBatchList.as_view(), name="fapiao-batches"),
    path(
        "staff/fapiao/batches/<int:pk>/download",
        fapiao_batch_views.fapiao_batch_download,
        name="fapiao-batch-download",
    ),
    path("staff/orders/", quote_lists.OrderList.as_view(), name="orders"),
    path("staff/travel/new", record_views.travel_expense_new, name="travel-new"),
    path("staff/usage/new", record_views.data_volume_usage_new, name="usage-new"),
    path("staff/work-logs/new", record_views.work_log_new, name="work-log-new"),
    path("staff/work-logs/import", record_views.work_log_import, name="work-log-import"),
    path("staff/fapiao/import", fapiao_import_views.fapiao_import, name="fapiao-import"),
]
