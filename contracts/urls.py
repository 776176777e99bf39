from django.urls import path

from contracts import api, views

# The customer's pages of the namespace; its staff pages are in workspace/urls.py (billing/urls.py joins
# them under the one namespace).
app_name = "contracts"
urlpatterns = [
    path("c/charge-requests/<str:token>/", views.charge_request_answer, name="charge-request-answer"),
]

api_urlpatterns = [
    path("entitlements/check", api.EntitlementCheckView.as_view(), name="entitlements-check"),
    path("entitlements/consume", api.ConsumeView.as_view(), name="entitlements-consume"),
    path(
        "consumption/<int:pk>/corrections",
        api.ConsumptionCorrectionView.as_view(),
        name="consumption-correct",
    ),
    path("charge-requests", api.ChargeRequestListCreateView.as_view(), name="charge-requests"),
    path("charge-requests/<int:pk>", api.ChargeRequestDetailView.as_view(), name="charge-request"),
    path("customers/<slug:code>/coverage", api.CoverageView.as_view(), name="customer-coverage"),
]
