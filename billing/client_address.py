"""The client's address (客户端地址): the one rule for "who is asking", read by login throttling (django-axes,
through AXES_CLIENT_IP_CALLABLE) and recorded with a customer's signed answer.

Behind ``TRUSTED_PROXY_COUNT`` reverse proxies, each of which appends the address it received the request
from to ``X-Forwarded-For``, the client is the entry that the outermost proxy appended: the
``TRUSTED_PROXY_COUNT``-th from the right. Entries to its left were sent by the client and prove nothing.
A request that did not pass through every proxy (too few entries), that arrives from outside
``TRUSTED_PROXY_NETWORKS`` when that list is set, or whose entry is not an address, is known only by the
address that connected (REMOTE_ADDR). With no proxy configured (the default), X-Forwarded-For is ignored.
"""

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str | None:
    connected = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies <= 0 or not _from_trusted_proxy(connected):
        return connected
    forwarded = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [hop for hop in forwarded if hop]
    if len(forwarded) < proxies:
        return connected
    try:
        return str(ipaddress.ip_address(forwarded[-proxies]))
    except ValueError:
        return connected


def _from_trusted_proxy(connected: str | None) -> bool:
    if not settings.TRUSTED_PROXY_NETWORKS:
        return True
    try:
        address = ipaddress.ip_address(connected or "")
    except ValueError:
        return False
    return any(address in network for network in settings.TRUSTED_PROXY_NETWORKS)
