"""Webhook URL rules: https only (http to loopback when allowed), no credentials, and no host that resolves to a
non-public address, checked address by address (graphql_app.services.webhooks)."""

from __future__ import annotations

import ipaddress

import pytest

from graphql_app.services.webhooks import (
    WebhookHostUnresolved,
    WebhookPolicy,
    WebhookUrlRefused,
    forbidden_address_reason,
    parse_webhook_url,
    resolve_webhook_url,
)


def resolver(*addresses: str):
    """A resolver answering ``addresses`` for any host, as a (rebinding) DNS server could."""

    async def resolve(host: str, port: int) -> list[str]:
        return list(addresses)

    return resolve


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.1.2.3",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "fd12:3456::1",
        "ff02::1",
        "::ffff:127.0.0.1",
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "64:ff9b::a00:1",
        "2002:a00:1::",
    ],
)
def test_non_public_addresses_are_forbidden(address):
    assert forbidden_address_reason(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:1.1.1.1"])
def test_public_addresses_are_allowed(address):
    assert forbidden_address_reason(ipaddress.ip_address(address)) is None


def test_loopback_is_allowed_only_when_asked():
    assert forbidden_address_reason(ipaddress.ip_address("127.0.0.1"), allow_loopback=True) is None
    assert forbidden_address_reason(ipaddress.ip_address("::1"), allow_loopback=True) is None
    assert forbidden_address_reason(ipaddress.ip_address("::ffff:127.0.0.1"), allow_loopback=True) is None
    assert forbidden_address_reason(ipaddress.ip_address("10.0.0.1"), allow_loopback=True) is not None


def test_urls_are_taken_apart():
    target = parse_webhook_url("https://Hooks.Example.com:8443/in/coming?x=1#frag")
    assert (target.scheme, target.host, target.port, target.path) == (
        "https",
        "hooks.example.com",
        8443,
        "/in/coming?x=1",
    )
    assert target.host_header == "hooks.example.com:8443"
    assert parse_webhook_url("https://example.com").path == "/"
    assert parse_webhook_url("https://example.com/").host_header == "example.com"
    assert parse_webhook_url("https://[2606:4700::1]/x").host_header == "[2606:4700::1]"
    assert parse_webhook_url("https://bücher.example/").host == "xn--bcher-kva.example"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "example.com/hook",
        "https:///nohost",
        "https://user:pass@example.com/",
        "https://user@example.com/",
        "https://example.com:99999/",
        "https://exa mple.com/",
        "https://example.com/\x00",
        "https://example.com/" + "a" * 2048,
    ],
)
def test_malformed_urls_are_refused(url):
    with pytest.raises(WebhookUrlRefused) as refused:
        parse_webhook_url(url)
    assert refused.value.extensions == {"code": "BAD_USER_INPUT", "field": "url"}


async def test_a_public_host_resolves_to_its_pinned_address():
    resolved = await resolve_webhook_url(
        "https://hooks.example.com/x", allow_loopback=False, resolve=resolver("93.184.215.14")
    )
    assert str(resolved.address) == "93.184.215.14"
    assert resolved.pinned_url == "https://93.184.215.14:443/x"
    assert resolved.sni_hostname == "hooks.example.com"
    literal = await resolve_webhook_url("https://[2606:4700::1]:8443/x", allow_loopback=False)
    assert literal.pinned_url == "https://[2606:4700::1]:8443/x" and literal.sni_hostname is None


@pytest.mark.parametrize(
    "url",
    [
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.1/",
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",
        "https://0.0.0.0/",
        "http://127.0.0.1:8080/",
        "https://localhost/",
        "http://localhost/",
        "http://93.184.215.14/",
    ],
)
async def test_non_public_targets_are_refused_without_the_loopback_setting(url):
    with pytest.raises(WebhookUrlRefused):
        await resolve_webhook_url(url, allow_loopback=False)


async def test_a_host_with_one_private_address_among_public_ones_is_refused():
    with pytest.raises(WebhookUrlRefused, match="private address"):
        await resolve_webhook_url(
            "https://hooks.example.com/", allow_loopback=False, resolve=resolver("93.184.215.14", "10.1.2.3")
        )


async def test_the_loopback_setting_admits_loopback_hosts_only():
    assert str((await resolve_webhook_url("http://127.0.0.1:9/", allow_loopback=True)).address) == "127.0.0.1"
    assert (await resolve_webhook_url("http://localhost:9/", allow_loopback=True)).address.is_loopback
    for url in ("http://10.0.0.1/", "https://10.0.0.1/", "http://example.com/", "http://93.184.215.14/"):
        with pytest.raises(WebhookUrlRefused):
            await resolve_webhook_url(url, allow_loopback=True)
    # http:// to a name that is not localhost is refused before any lookup, even if it would resolve to loopback.
    with pytest.raises(WebhookUrlRefused):
        await resolve_webhook_url("http://rebind.example/", allow_loopback=True, resolve=resolver("127.0.0.1"))


async def test_an_unresolvable_host_is_reported():
    with pytest.raises(WebhookHostUnresolved):
        await resolve_webhook_url("https://nowhere.example/", allow_loopback=False, resolve=resolver())


def test_the_retry_schedule():
    policy = WebhookPolicy()
    assert [policy.retry_delay(n).total_seconds() for n in range(1, 6)] == [30, 120, 480, 1920, 7680]
