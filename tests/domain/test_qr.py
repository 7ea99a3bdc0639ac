from __future__ import annotations

import base64
import hashlib
import hmac
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrygate.domain import qr
from entrygate.domain.qr import (
    QrClaim,
    QrCodeBadMac,
    QrCodeError,
    QrCodeExpired,
    QrCodeFromFuture,
    QrCodeMalformed,
    issue,
    time_step,
    verify,
)

KEY = b"retailer-qr-key-0123456789abcdef"
TOKEN = "vis_3Fq-9xZ"
NOW = 1_764_266_400.0  # a multiple of 20: the start of a step
STEP = int(NOW // 20)
# DESIGN 4.3, the store's default qrPattern.
DEFAULT_QR_PATTERN = re.compile(r"^EG1\.[A-Za-z0-9_-]+\.[0-9]+\.[A-Za-z0-9_-]+$")

tokens = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-",
                 min_size=1, max_size=qr.MAX_TOKEN_LENGTH)
keys = st.binary(min_size=1, max_size=64)
times = st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False)


# --- issuing ----------------------------------------------------------------------------------


def test_issued_code_has_the_documented_layout():
    code = issue(KEY, TOKEN, now=NOW)
    prefix, token, step, mac = code.split(".")
    assert (prefix, token, step) == ("EG1", TOKEN, str(STEP))
    digest = hmac.new(KEY, f"EG1.{TOKEN}.{STEP}".encode(), hashlib.sha256).digest()
    assert mac == base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()
    assert len(mac) == 22


@given(key=keys, token=tokens, now=times)
def test_issued_codes_match_the_default_qr_pattern_and_verify(key, token, now):
    code = issue(key, token, now=now)
    assert DEFAULT_QR_PATTERN.match(code)
    assert verify(key, code, now=now) == QrClaim(token, int(now // 20))


def test_code_rotates_with_the_step():
    assert issue(KEY, TOKEN, now=NOW) == issue(KEY, TOKEN, now=NOW + 19.999)
    assert issue(KEY, TOKEN, now=NOW) != issue(KEY, TOKEN, now=NOW + 20)


def test_code_is_bound_to_the_token_and_the_key():
    assert issue(KEY, TOKEN, now=NOW) != issue(KEY, TOKEN + "x", now=NOW)
    assert issue(KEY, TOKEN, now=NOW) != issue(KEY + b"x", TOKEN, now=NOW)


def test_step_seconds_is_configurable():
    code = issue(KEY, TOKEN, now=NOW, step_seconds=30)
    assert code.split(".")[2] == str(int(NOW // 30))
    assert verify(KEY, code, now=NOW, step_seconds=30).step == int(NOW // 30)


@pytest.mark.parametrize("token", ["", "a.b", "a b", "ä", "a/b", "a+b", "a=", "x" * 257, None])
def test_issue_refuses_a_token_that_is_not_url_safe(token):
    with pytest.raises(ValueError):
        issue(KEY, token, now=NOW)


@pytest.mark.parametrize("key", [b"", "text-key", None])
def test_issue_and_verify_refuse_a_missing_key(key):
    with pytest.raises(ValueError):
        issue(key, TOKEN, now=NOW)
    with pytest.raises(ValueError):
        verify(key, issue(KEY, TOKEN, now=NOW), now=NOW)


@pytest.mark.parametrize(
    ("now", "step_seconds"), [(-1, 20), (float("nan"), 20), (float("inf"), 20), (NOW, 0)]
)
def test_bad_time_or_step_is_refused(now, step_seconds):
    with pytest.raises(ValueError):
        issue(KEY, TOKEN, now=now, step_seconds=step_seconds)


# --- the time window --------------------------------------------------------------------------


@pytest.mark.parametrize("later", [0, 1, 19.99, 20, 39.99])
def test_accepted_in_its_step_and_one_step_late(later):
    code = issue(KEY, TOKEN, now=NOW)
    assert verify(KEY, code, now=NOW + later) == QrClaim(TOKEN, STEP)


@pytest.mark.parametrize("later", [40, 60, 3600])
def test_expired_more_than_one_step_late(later):
    code = issue(KEY, TOKEN, now=NOW)
    with pytest.raises(QrCodeExpired):
        verify(KEY, code, now=NOW + later)


def test_max_late_steps_widens_the_window():
    code = issue(KEY, TOKEN, now=NOW)
    assert verify(KEY, code, now=NOW + 59, max_late_steps=2).step == STEP
    with pytest.raises(QrCodeExpired):
        verify(KEY, code, now=NOW + 20, max_late_steps=0)


@pytest.mark.parametrize("earlier", [0.001, 20])
def test_accepted_one_step_early_for_clock_skew(earlier):
    code = issue(KEY, TOKEN, now=NOW)
    assert verify(KEY, code, now=NOW - earlier).step == STEP


@pytest.mark.parametrize("earlier", [20.001, 40, 3600])
def test_from_the_future_more_than_one_step_ahead(earlier):
    code = issue(KEY, TOKEN, now=NOW)
    with pytest.raises(QrCodeFromFuture):
        verify(KEY, code, now=NOW - earlier)
    with pytest.raises(QrCodeFromFuture):
        verify(KEY, code, now=NOW - 0.001, max_early_steps=0)


def test_remember_until_is_when_the_code_expires():
    claim = verify(KEY, issue(KEY, TOKEN, now=NOW), now=NOW)
    until = claim.remember_until()
    assert until == NOW + 40
    verify(KEY, issue(KEY, TOKEN, now=NOW), now=until - 0.001)
    with pytest.raises(QrCodeExpired):
        verify(KEY, issue(KEY, TOKEN, now=NOW), now=until)


def test_the_same_code_gives_the_same_claim_for_the_caller_to_refuse_again():
    code = issue(KEY, TOKEN, now=NOW)
    assert verify(KEY, code, now=NOW) == verify(KEY, code, now=NOW + 5)
    assert len({verify(KEY, code, now=NOW), verify(KEY, code, now=NOW + 5)}) == 1


# --- forgeries and garbage --------------------------------------------------------------------


def test_wrong_key():
    with pytest.raises(QrCodeBadMac):
        verify(b"another key", issue(KEY, TOKEN, now=NOW), now=NOW)


def test_swapped_token():
    _, _, step, mac = issue(KEY, TOKEN, now=NOW).split(".")
    with pytest.raises(QrCodeBadMac):
        verify(KEY, f"EG1.vis_other.{step}.{mac}", now=NOW)


def test_moved_step_keeps_a_stolen_code_from_being_refreshed():
    _, token, step, mac = issue(KEY, TOKEN, now=NOW - 3600).split(".")
    with pytest.raises(QrCodeBadMac):
        verify(KEY, f"EG1.{token}.{STEP}.{mac}", now=NOW)


def test_mac_is_checked_before_time():
    _, token, _, mac = issue(KEY, TOKEN, now=NOW).split(".")
    with pytest.raises(QrCodeBadMac):
        verify(KEY, f"EG1.{token}.{STEP - 100}.{mac}", now=NOW)


def test_every_single_character_change_of_the_mac_is_refused():
    code = issue(KEY, TOKEN, now=NOW)
    head, mac = code.rsplit(".", 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    for i in range(len(mac)):
        for ch in alphabet:
            if ch != mac[i]:
                with pytest.raises(QrCodeBadMac):
                    verify(KEY, f"{head}.{mac[:i]}{ch}{mac[i + 1:]}", now=NOW)


@pytest.mark.parametrize(
    "mutate",
    [
        lambda c: c.replace("EG1.", "EG2.", 1),
        lambda c: c.replace("EG1.", "eg1.", 1),
        lambda c: c[4:],
        lambda c: c + "=",
        lambda c: c[:-1],
        lambda c: c + "A",
        lambda c: c + "\n",
        lambda c: " " + c,
        lambda c: c.replace(f".{STEP}.", f".0{STEP}."),
        lambda c: c.replace(f".{STEP}.", f".+{STEP}."),
        lambda c: c.replace(f".{STEP}.", f".-{STEP}."),
        lambda c: c.replace(f".{STEP}.", ".."),
        lambda c: c.replace(TOKEN, ""),
        lambda c: c.replace(TOKEN, "vis.x"),
        lambda c: c + ".extra",
        lambda c: c.replace(f".{STEP}.", ".1" + "0" * 20 + "."),
        lambda c: "",
    ],
)
def test_malformed_codes(mutate):
    with pytest.raises(QrCodeMalformed):
        verify(KEY, mutate(issue(KEY, TOKEN, now=NOW)), now=NOW)


@pytest.mark.parametrize("code", [None, 12, b"EG1.a.1.b"])
def test_non_string_codes_are_malformed(code):
    with pytest.raises(QrCodeMalformed):
        verify(KEY, code, now=NOW)


@given(st.text(max_size=120))
def test_any_string_is_a_claim_or_a_qr_error(text):
    try:
        verify(KEY, text, now=NOW)
    except QrCodeError:
        pass


def test_time_step():
    assert time_step(59) == 2
    assert time_step(59, step_seconds=30) == 1
    assert time_step(0) == 0


def test_exceptions_share_one_base():
    for exc in (QrCodeMalformed, QrCodeBadMac, QrCodeExpired, QrCodeFromFuture):
        assert issubclass(exc, QrCodeError)
