"""Where a webhook may go, and how long and how much it may take (ADR 0024).

A webhook's URL is written by whoever designs an app; left unchecked it would let them
make the server call its own loopback, the private network behind it or the cloud's
metadata service (SSRF). Every address a host resolves to is checked, at publish for
an address written in the URL and again before each request (and each redirect), and
only addresses on the public internet pass, unless the installation allows a network
(FLOWDESK_WEBHOOKS__ALLOW_NETWORKS, e.g. an internal integration gateway).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network

Network = IPv4Network | IPv6Network
Address = IPv4Address | IPv6Address


@dataclass(frozen=True)
class WebhookPolicy:
    """`secrets` maps the names definitions use to their values (configuration only)."""

    secrets: Mapping[str, str] = field(default_factory=dict)
    allow_networks: tuple[Network, ...] = ()
    timeout_seconds: float = 10.0
    max_response_bytes: int = 65_536
    max_redirects: int = 3


def refusal(address: Address, allowed: tuple[Network, ...]) -> str:
    """Why a request may not go to `address` ("" when it may): loopback, link_local (the
    cloud metadata address 169.254.169.254 is one), private, or not_public (reserved,
    multicast, shared carrier space such as Alibaba Cloud's 100.100.100.200 …)."""
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:127.0.0.1 is 127.0.0.1
    if any(address.version == net.version and address in net for net in allowed):
        return ""
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link_local"
    if address.is_private:
        return "private"
    if not address.is_global or address.is_multicast:
        return "not_public"
    return ""


def literal_address(host: str) -> Address | None:
    """The address a URL's host spells out, if it is one (IPv6 without brackets)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def host_refusal(host: str, allowed: tuple[Network, ...]) -> str:
    """What publishing can say about a host without resolving it: a literal address
    that is refused, or a name that always means this machine (localhost)."""
    address = literal_address(host)
    if address is None and (host == "localhost" or host.endswith(".localhost")):
        address = IPv4Address("127.0.0.1")
    return refusal(address, allowed) if address is not None else ""
