"""The project's settings for the test suite: production defaults, less what a test client over plain
HTTP cannot follow, and a fast password hasher."""

from billing.settings import *

SECURE_SSL_REDIRECT = False

# A file, not SQLite's shared in-memory database: its table locks fail at once instead of waiting, so
# tests of concurrent writers would see errors no deployment sees.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    (BASE_DIR / "var").mkdir(exist_ok=True)  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}  # noqa: F405
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tasks run in-process unless a test asks for the real worker (the `real_celery_worker` fixture).
CELERY_TASK_ALWAYS_EAGER = True

# Production serves collected, hashed static files (whitenoise); the tests read them where they are.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}  # noqa: F405
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True

MEDIA_ROOT = BASE_DIR / "var" / "test-media"  # noqa: F405

# Most tests sign staff in with force_login; tests/billing/test_second_factor.py turns the second factor on.
OTP_REQUIRED = False
