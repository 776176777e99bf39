"""The project's settings for the test suite: production defaults, less what a test client over plain
HTTP cannot follow, and a fast password hasher."""

from billing.settings import *

SECURE_SSL_REDIRECT = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tasks run in-process unless a test asks for the real worker (the `celery_worker` fixture).
CELERY_TASK_ALWAYS_EAGER = True
