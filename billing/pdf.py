"""PDF rendering with WeasyPrint, fetching nothing but the project's own static files.

Documents are rendered from templates against a fake origin; the fetcher serves a URL only when it is
under that origin's STATIC_URL and a static file of the project, so ``file://`` URLs, remote URLs and
paths outside the static files embed nothing (for the HTML and for every stylesheet alike). One
FontConfiguration is kept per process; with libharfbuzz-subset0 installed the CJK font is subset by
HarfBuzz (tens of milliseconds instead of seconds).
"""

import hashlib
import logging
import mimetypes
from functools import cache
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
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
        relative = unquote(parts.path[len(static_prefix) :])
        path = finders.find(relative) if ".." not in relative.split("/") else None
        if not path:
            raise ValueError(f"no such static file: {relative[:200]}")
        with open(path, "rb") as handle:
            body = handle.read()
        mime = mimetypes.guess_type(path)[0] or "application/octet-stream"
        return URLFetcherResponse(url, body=body, headers={"Content-Type": mime})


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
