from django.urls import path

from events import api

# The app has no pages: its staff side is the admin (events/admin.py).
api_urlpatterns = [
    path("events", api.EventListView.as_view(), name="events"),
    path("webhook-endpoints", api.WebhookEndpointListView.as_view(), name="webhook-endpoints"),
    path("webhook-endpoints/<int:pk>", api.WebhookEndpointDetailView.as_view(), name="webhook-endpoint"),
    path(
        "webhook-endpoints/<int:pk>/rotate-secret",
        api.WebhookSecretRotateView.as_view(),
        name="webhook-endpoint-rotate-secret",
    ),
    path("webhook-endpoints/<int:pk>/replay", api.ReplayView.as_view(), name="webhook-endpoint-replay"),
    path("webhook-endpoints/<int:pk>/deliveries", api.DeliveryListView.as_view(), name="webhook-deliveries"),
    path(
        "webhook-endpoints/<int:pk>/deliveries/<int:delivery_id>/resend",
        api.DeliveryResendView.as_view(),
        name="webhook-delivery-resend",
    ),
]
