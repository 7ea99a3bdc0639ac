"""Which addresses entrygate may call out to: the rules of DESIGN "Outbound addresses".

A retailer chooses the URLs entrygate calls (connectors now, webhook endpoints later). Left
unchecked, a retailer could point one at the platform's own network — a database on loopback,
an admin port on 10.0.0.0/8, the cloud's metadata service — and read back what answers there.
So outbound calls go only to public addresses over https. This module is the pure part: it
classifies an IP address and judges a URL as written; the address actually connected to is
checked again at connect time (``adapters/http/outbound.py``), since a name can resolve anywhere.
"""
from __future__ import annotations

import enum
import ipaddress
import socket
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressKind(enum.Enum):
    PUBLIC = "a public address"
    UNSPECIFIED = "the unspecified address"
    LOOPBACK = "a loopback address"
    PRIVATE = "a private address"
    LINK_LOCAL = "a link-local address"
    UNIQUE_LOCAL = "a unique-local address"
    SHARED = "a carrier-grade NAT address"
    MULTICAST = "a multicast address"
    METADATA = "a cloud metadata address"
    RESERVED = "a reserved, non-global address"

    @property
    def allowed(self) -> bool:
        return self is AddressKind.PUBLIC


# Instance metadata services answer with credentials to anything on the machine that asks.
# Most sit in ranges refused anyway; they are named so the refusal says what they are.
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in (
    "169.254.169.254",  # AWS, GCP, Azure, DigitalOcean, Oracle, OpenStack
    "169.254.170.2",  # AWS ECS task metadata
    "169.254.169.253",  # AWS DNS resolver
    "fd00:ec2::254",  # AWS IMDS over IPv6
    "fd00:ec2::253",  # AWS DNS resolver over IPv6
    "100.100.100.200",  # Alibaba Cloud
    "192.0.0.192",  # Oracle Cloud
))
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")  # RFC 791: Linux connects 0.x.y.z to this host
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598
_PRIVATE_V4 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")  # RFC 4193
_SITE_LOCAL = ipaddress.ip_network("fec0::/10")  # RFC 3879, deprecated but still routed by some stacks
_NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: the last 32 bits are an IPv4 address
_V4_COMPATIBLE = ipaddress.ip_network("::/96")  # RFC 4291 2.5.5.1, deprecated; :: and ::1 are in it too
_RESERVED_V6 = ipaddress.ip_network("::/8")  # IANA: reserved by the IETF
_LOCALHOST_NAMES = ("localhost", ".localhost")  # RFC 6761 6.3: always loopback


def classify(address: str | IPAddress) -> AddressKind:
    """What kind of address this is; only ``PUBLIC`` may be called."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
        ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
    if ip in METADATA_ADDRESSES:
        return AddressKind.METADATA
    if isinstance(ip, ipaddress.IPv4Address):
        return _classify_v4(ip)
    embedded = _embedded_v4(ip)
    if embedded is not None:
        # An IPv4-mapped (::ffff:a.b.c.d), NAT64 or 6to4 address reaches the IPv4 address it carries.
        kind = classify(embedded)
        if not kind.allowed or ip.ipv4_mapped is not None or ip in _NAT64:
            return kind
    if ip.is_unspecified:
        return AddressKind.UNSPECIFIED
    if ip.is_loopback:
        return AddressKind.LOOPBACK
    if ip in _RESERVED_V6:
        return AddressKind.RESERVED
    if ip.is_link_local:
        return AddressKind.LINK_LOCAL
    if ip in _UNIQUE_LOCAL:
        return AddressKind.UNIQUE_LOCAL
    if ip in _SITE_LOCAL:
        return AddressKind.PRIVATE
    if ip.is_multicast:
        return AddressKind.MULTICAST
    return AddressKind.PUBLIC if ip.is_global else AddressKind.RESERVED


def _classify_v4(ip: ipaddress.IPv4Address) -> AddressKind:
    if ip in _THIS_NETWORK:
        return AddressKind.UNSPECIFIED
    if ip.is_loopback:
        return AddressKind.LOOPBACK
    if ip.is_link_local:
        return AddressKind.LINK_LOCAL
    if any(ip in net for net in _PRIVATE_V4):
        return AddressKind.PRIVATE
    if ip in _SHARED:
        return AddressKind.SHARED
    if ip.is_multicast:
        return AddressKind.MULTICAST
    return AddressKind.PUBLIC if ip.is_global else AddressKind.RESERVED


def _embedded_v4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip in _NAT64 or (ip in _V4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.sixtofour


def literal_address(host: str) -> IPAddress | None:
    """The IP address a URL's host spells, in any form a resolver reads as one; else None.

    Besides dotted quads and IPv6, resolvers accept the old ``inet_aton`` forms (``127.1``,
    ``2130706433``, ``0x7f.0.0.1``); a host whose last label is a number or hex is one of them,
    never a DNS name (no top-level domain is numeric).
    """
    host = host.strip("[]").rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    last = host.rsplit(".", 1)[-1].lower()
    if not last or not (last.isdigit() or (last.startswith("0x") and all(c in "0123456789abcdef" for c in last[2:]))):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None


def url_refusal(url: str, *, allow_private: bool) -> str | None:
    """Why entrygate would not call this URL as written, or None; the address is checked again at connect time."""
    if allow_private:
        return None
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError as exc:
        return f"is not a valid URL: {exc}"
    if parts.scheme.lower() != "https":
        return "must use https (plain http is allowed only with ENTRYGATE_ALLOW_PRIVATE_URLS=true)"
    if not host:
        return "has no host"
    name = host.lower().rstrip(".")
    if name == _LOCALHOST_NAMES[0] or name.endswith(_LOCALHOST_NAMES[1]):
        return f"names {AddressKind.LOOPBACK.value}; entrygate calls only public addresses"
    ip = literal_address(host)
    if ip is not None:
        kind = classify(ip)
        if not kind.allowed:
            return f"is {kind.value} ({ip}); entrygate calls only public addresses"
    return None
