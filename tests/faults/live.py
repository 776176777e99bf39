"""Speaking HTTP to a live server process, as an API client or a logged-in staff member."""

import http.client
import json
import secrets
import urllib.parse
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

TIMEOUT_SECONDS = 30


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def json(self):
        return json.loads(self.body)

    @property
    def text(self) -> str:
        return self.body.decode(errors="replace")


def call(base_url: str, method: str, path: str, *, body: bytes | None = None, headers=None) -> Answer:
    """One request on a new connection (so each request of a test is independent)."""
    url = urllib.parse.urlsplit(base_url)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=TIMEOUT_SECONDS)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Answer(response.status, response.headers, response.read())
    finally:
        conn.close()


def api_post(base_url: str, path: str, payload: dict, *, key: str, idempotency_key: str = "") -> Answer:
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json", "Accept-Language": "en"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return call(base_url, "POST", path, body=json.dumps(payload).encode(), headers=headers)


class StaffBrowser:
    """A logged-in staff member: a session created in the database, and a CSRF token of our choosing
    (the cookie and the form field carry the same secret, which is what Django's CSRF check compares).
    The session has passed the second factor, as django_otp.login records it (production settings ask it
    of staff with money powers)."""

    def __init__(self, base_url: str, user):
        device, _new = TOTPDevice.objects.get_or_create(user=user, name="app", defaults={"confirmed": True})
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.create()
        self.base_url = base_url
        self.csrf = secrets.token_hex(16)  # 32 characters, the length of a CSRF secret
        self.cookie = (
            f"{settings.SESSION_COOKIE_NAME}={session.session_key}; {settings.CSRF_COOKIE_NAME}={self.csrf}"
        )

    def get(self, path: str) -> Answer:
        return call(self.base_url, "GET", path, headers={"Cookie": self.cookie, "Accept-Language": "en"})

    def post(self, path: str, form: dict | list) -> Answer:
        fields = list(form.items()) if isinstance(form, dict) else list(form)
        body = urllib.parse.urlencode([*fields, ("csrfmiddlewaretoken", self.csrf)]).encode()
        return call(
            self.base_url,
            "POST",
            path,
            body=body,
            headers={
                "Cookie": self.cookie,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept-Language": "en",
            },
        )
