"""PDF rendering with WeasyPrint, fetching nothing but the project's own static files.

Documents are rendered from templates against a fake origin; the fetcher serves a URL only when it is
under that origin's STATIC_URL and a static file of the project (by its own name, or by the hashed name
the production storage's manifest gives it, as ``{% static %}`` writes it with DEBUG off), so ``file://``
URLs, remote URLs and paths outside the static files embed nothing (for the HTML and for every stylesheet
alike). One FontConfiguration is kept per process; with libharfbuzz-subset0 installed the CJK font is
subset by HarfBuzz (tens of milliseconds instead of seconds).
"""

import hashlib
import logging
import mimetypes
import os
from functools import cache
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from weasyprint import HTML
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcher, URLFetcherResponse

logger = logging.getLogger(__name__)
ORIGIN = "https://documents.invalid"


class StaticFilesFetcher(URLFetcher):
    """Serves the project's static files under ORIGIN + STATIC_URL; refuses everything else."""

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        static_prefix = "/" + settings.STATIC_URL.lstrip("/")
        if f"{parts.scheme}://{parts.netloc}" != ORIGIN or not parts.path.startswith(static_prefix):
            logger.warning("PDF rendering refused to fetch %s", url[:200])
            raise ValueError(f"not a static file of the project: {url[:200]}")
        name = unquote(parts.path[len(static_prefix) :])
        body = static_file(name)
        if body is None:
            logger.warning("PDF rendering found no static file %s", name[:200])
            raise ValueError(f"no such static file: {name[:200]}")
        mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=body, headers={"Content-Type": mime})


def static_file(name: str) -> bytes | None:
    """The content of the static file a ``{% static %}`` URL names, or None. The finders know the files
    where they are (development, and the original names in production); the manifest of the production
    storage knows the hashed names ``collectstatic`` gave them, read back from that storage. No other file
    of the storage's folder is read, and no name leaves the finders' folders."""
    segments = name.split("/")
    if not name or name.startswith("/") or "\\" in name or "\x00" in name or ".." in segments:
        return None
    try:
        path = finders.find(name)
        if path and os.path.isfile(path):
            with open(path, "rb") as handle:
                return handle.read()
        if name in set(getattr(staticfiles_storage, "hashed_files", {}).values()):
            with staticfiles_storage.open(name) as handle:
                return handle.read()
    except (SuspiciousFileOperation, OSError):
        return None
    return None


@cache
def font_configuration() -> FontConfiguration:
    return FontConfiguration()


def render_pdf(template_name: str, context: dict) -> bytes:
    """The PDF of a template; its links to static files are written ``{% static %}``."""
    return html_to_pdf(render_to_string(template_name, context))


def html_to_pdf(html: str) -> bytes:
    document = HTML(string=html, base_url=ORIGIN + "/", url_fetcher=StaticFilesFetcher())
    return document.write_pdf(font_config=font_configuration())


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
