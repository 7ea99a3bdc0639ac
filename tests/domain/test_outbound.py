"""Which addresses and URLs entrygate may call out to (DESIGN "Outbound addresses")."""
from __future__ import annotations

import pytest

from entrygate.domain.outbound import AddressKind, classify, literal_address, url_refusal
from entrygate.domain.store import ConnectorConfig, StoreConfigError, check_store
from support.factories import store_config

K = AddressKind

ADDRESSES = [
    # unspecified and "this network" (Linux connects 0.x.y.z to this host)
    ("0.0.0.0", K.UNSPECIFIED), ("0.1.2.3", K.UNSPECIFIED), ("::", K.UNSPECIFIED),
    # loopback
    ("127.0.0.1", K.LOOPBACK), ("127.255.10.3", K.LOOPBACK), ("::1", K.LOOPBACK),
    # RFC 1918
    ("10.0.0.1", K.PRIVATE), ("10.255.255.255", K.PRIVATE), ("172.16.0.1", K.PRIVATE),
    ("172.31.255.254", K.PRIVATE), ("192.168.0.1", K.PRIVATE), ("192.168.255.255", K.PRIVATE),
    ("fec0::1", K.PRIVATE),
    # carrier-grade NAT (RFC 6598)
    ("100.64.0.1", K.SHARED), ("100.127.255.254", K.SHARED),
    # link-local
    ("169.254.0.1", K.LINK_LOCAL), ("169.254.255.254", K.LINK_LOCAL), ("fe80::1", K.LINK_LOCAL),
    ("fe80::1%2", K.LINK_LOCAL), ("febf::1", K.LINK_LOCAL),
    # unique-local (RFC 4193)
    ("fc00::1", K.UNIQUE_LOCAL), ("fd12:3456::1", K.UNIQUE_LOCAL),
    # multicast
    ("224.0.0.1", K.MULTICAST), ("239.255.255.250", K.MULTICAST), ("ff02::1", K.MULTICAST),
    # cloud metadata
    ("169.254.169.254", K.METADATA), ("169.254.170.2", K.METADATA), ("fd00:ec2::254", K.METADATA),
    ("100.100.100.200", K.METADATA), ("192.0.0.192", K.METADATA),
    # IPv4-mapped IPv6 forms reach the IPv4 address they carry
    ("::ffff:0.0.0.0", K.UNSPECIFIED), ("::ffff:127.0.0.1", K.LOOPBACK), ("::ffff:7f00:1", K.LOOPBACK),
    ("::ffff:10.1.2.3", K.PRIVATE), ("::ffff:172.16.5.4", K.PRIVATE), ("::ffff:192.168.1.1", K.PRIVATE),
    ("::ffff:100.64.1.1", K.SHARED), ("::ffff:169.254.1.1", K.LINK_LOCAL), ("::ffff:224.0.0.1", K.MULTICAST),
    ("::ffff:169.254.169.254", K.METADATA), ("::ffff:8.8.8.8", K.PUBLIC),
    # other IPv6 forms that embed an IPv4 address: IPv4-compatible, NAT64, 6to4
    ("::127.0.0.1", K.LOOPBACK), ("::8.8.8.8", K.RESERVED), ("64:ff9b::127.0.0.1", K.LOOPBACK),
    ("64:ff9b::a00:1", K.PRIVATE), ("64:ff9b::8.8.8.8", K.PUBLIC), ("2002:7f00:1::", K.LOOPBACK),
    ("2002:a9fe:a9fe::", K.METADATA),
    # reserved, documentation, broadcast
    ("255.255.255.255", K.RESERVED), ("240.0.0.1", K.RESERVED), ("192.0.2.10", K.RESERVED),
    ("198.18.0.1", K.RESERVED), ("2001:db8::1", K.RESERVED),
    # public, including the neighbours of refused ranges
    ("8.8.8.8", K.PUBLIC), ("1.1.1.1", K.PUBLIC), ("172.15.255.255", K.PUBLIC), ("172.32.0.1", K.PUBLIC),
    ("100.63.255.255", K.PUBLIC), ("100.128.0.1", K.PUBLIC), ("11.0.0.1", K.PUBLIC), ("192.169.0.1", K.PUBLIC),
    ("2606:4700:4700::1111", K.PUBLIC), ("2a00:1450:4001::200e", K.PUBLIC),
]


@pytest.mark.parametrize(("address", "kind"), ADDRESSES)
def test_addresses_are_classified(address, kind):
    assert classify(address) is kind
    assert kind.allowed is (kind is K.PUBLIC)


@pytest.mark.parametrize(("host", "address"), [
    ("127.0.0.1", "127.0.0.1"), ("127.1", "127.0.0.1"), ("2130706433", "127.0.0.1"), ("0x7f.0.0.1", "127.0.0.1"),
    ("0177.0.0.1", "127.0.0.1"), ("0x7f000001", "127.0.0.1"), ("[::1]", "::1"), ("10.0.0.1.", "10.0.0.1"),
    ("example.com", None), ("cafe.be", None), ("1.2.3.example", None), ("localhost", None),
])
def test_a_host_that_spells_an_address_in_any_form_is_read_as_one(host, address):
    got = literal_address(host)
    assert (str(got) if got is not None else None) == address


@pytest.mark.parametrize(("url", "words"), [
    ("http://retailer.example/entry", "must use https"),
    ("HTTP://retailer.example/entry", "must use https"),
    ("ftp://retailer.example/", "must use https"),
    ("https://127.0.0.1:8443/", "loopback"),
    ("https://127.1/", "loopback"),
    ("https://2130706433/", "loopback"),
    ("https://[::1]/", "loopback"),
    ("https://[::ffff:127.0.0.1]/", "loopback"),
    ("https://localhost/", "loopback"),
    ("https://api.localhost./", "loopback"),
    ("https://LocalHost:9000/", "loopback"),
    ("https://0.0.0.0/", "unspecified"),
    ("https://[::]/", "unspecified"),
    ("https://10.1.2.3/", "private"),
    ("https://172.20.0.5/", "private"),
    ("https://192.168.1.10/", "private"),
    ("https://100.64.0.7/", "carrier-grade NAT"),
    ("https://169.254.10.10/", "link-local"),
    ("https://[fe80::1]/", "link-local"),
    ("https://[fd00::1]/", "unique-local"),
    ("https://169.254.169.254/latest/meta-data/", "metadata"),
    ("https://[fd00:ec2::254]/", "metadata"),
    ("https://[::ffff:169.254.169.254]/", "metadata"),
    ("https://[::ffff:a9fe:a9fe]/", "metadata"),
    ("https://", "has no host"),
])
def test_urls_entrygate_would_not_call_are_refused_with_the_reason(url, words):
    reason = url_refusal(url, allow_private=False)
    assert reason is not None and words in reason, reason
    assert url_refusal(url, allow_private=True) is None


@pytest.mark.parametrize("url", ["https://retailer.example/entry", "https://8.8.8.8/", "https://[2606:4700::1]:8443/",
                                 "https://r.example:9443/v1"])
def test_https_to_a_public_host_is_allowed(url):
    assert url_refusal(url, allow_private=False) is None


def _with_connector(name: str, url: str):
    return store_config("r", connectors={name: ConnectorConfig(url, "whsec_" + "A" * 44)})


def test_a_store_whose_connector_url_is_refused_names_the_field():
    check_store(_with_connector("identity", "https://retailer.example/entry"))
    for name, url, words in [("identity", "http://retailer.example/entry", "https"),
                             ("shopperAuthorization", "https://127.0.0.1/", "loopback"),
                             ("identity", "https://[::ffff:10.0.0.1]/", "private")]:
        bad = _with_connector(name, url)
        with pytest.raises(StoreConfigError) as caught:
            check_store(bad)
        assert caught.value.field == f"connectors.{name}.url" and words in caught.value.message
        check_store(bad, allow_private_urls=True)
