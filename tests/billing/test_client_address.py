"""The client's address behind the configured proxies: the one rule that login throttling and the
customer's recorded answer both read."""

import ipaddress

import pytest
from django.test import RequestFactory

from billing.client_address import client_address


def request(*, remote: str = "10.0.0.2", forwarded: str | None = None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_with_no_proxy_configured_x_forwarded_for_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_address(request(remote="203.0.113.7", forwarded="198.51.100.1")) == "203.0.113.7"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "client"),
    [
        (1, "203.0.113.7", "203.0.113.7"),
        (1, "192.0.2.66, 203.0.113.7", "203.0.113.7"),  # the client's own claim is on the left
        (2, "192.0.2.66, 203.0.113.7, 10.0.0.9", "203.0.113.7"),
        (1, "172.16.5.4", "172.16.5.4"),  # a client on the office network is known by its private address
        (1, " 2001:db8::7 ", "2001:db8::7"),
    ],
)
def test_behind_the_proxies_the_client_is_what_the_outermost_proxy_saw(settings, proxies, forwarded, client):
    settings.TRUSTED_PROXY_COUNT = proxies
    assert client_address(request(forwarded=forwarded)) == client


@pytest.mark.parametrize("forwarded", [None, "", "203.0.113.7", "not-an-address, 10.0.0.9"])
def test_a_request_that_did_not_pass_every_proxy_is_known_by_the_address_that_connected(settings, forwarded):
    settings.TRUSTED_PROXY_COUNT = 2
    assert client_address(request(remote="10.0.0.2", forwarded=forwarded)) == "10.0.0.2"


def test_x_forwarded_for_from_outside_the_trusted_proxy_networks_is_ignored(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUSTED_PROXY_NETWORKS = [ipaddress.ip_network("10.0.0.0/24")]
    assert client_address(request(remote="10.0.0.2", forwarded="203.0.113.7")) == "203.0.113.7"
    assert client_address(request(remote="198.51.100.9", forwarded="203.0.113.7")) == "198.51.100.9"
