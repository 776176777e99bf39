from django.urls import path

from events import api

# The app has no pages: its staff side is the admin (events/admin.py).
api_urlpatterns = [
    path("events", api.EventListView.as_view(), name="events"),
]
