"""Production settings for the HTTP benchmark, plus a bare JsonResponse view as the baseline."""

from billing.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
SECURE_SSL_REDIRECT = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
# Static files as they are, without collectstatic (the benchmarks measure no static file).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
STATIC_ROOT = None  # nothing collected: whitenoise has no folder to serve (and no warning to give)
