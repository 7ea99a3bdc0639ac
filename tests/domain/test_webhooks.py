from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from entrygate.domain import webhooks
from entrygate.domain.webhooks import (
    VerifiedWebhook,
    WebhookHeadersMissing,
    WebhookSignatureMismatch,
    WebhookTimestampInvalid,
    WebhookTimestampTooNew,
    WebhookTimestampTooOld,
    WebhookVerificationError,
    headers,
    new_secret,
    secret_key,
    sign,
    verify,
)

# VECTORS.md, Standard Webhooks.
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MSG_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
TIMESTAMP = 1614265330
BODY = b'{"test": 2432232314}'
SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def vector_headers(**overrides: str) -> dict[str, str]:
    h = {"webhook-id": MSG_ID, "webhook-timestamp": str(TIMESTAMP), "webhook-signature": SIGNATURE}
    h.update(overrides)
    return h


# --- the vector -------------------------------------------------------------------------------


def test_sign_reproduces_the_vector():
    assert sign(SECRET, MSG_ID, TIMESTAMP, BODY) == SIGNATURE


def test_headers_reproduce_the_vector():
    assert headers(SECRET, BODY, msg_id=MSG_ID, now=TIMESTAMP + 0.9) == vector_headers()


def test_vector_verifies():
    verified = verify(SECRET, vector_headers(), BODY, now=TIMESTAMP)
    assert verified == VerifiedWebhook(MSG_ID, TIMESTAMP)


@pytest.mark.parametrize("skew", [-300, -299.5, -1, 0, 1, 299.5, 300])
def test_vector_verifies_within_five_minutes_either_way(skew):
    verify(SECRET, vector_headers(), BODY, now=TIMESTAMP + skew)


@pytest.mark.parametrize("skew", [300.001, 301, 3600, 10**9])
def test_too_old(skew):
    with pytest.raises(WebhookTimestampTooOld):
        verify(SECRET, vector_headers(), BODY, now=TIMESTAMP + skew)


@pytest.mark.parametrize("skew", [300.001, 301, 3600])
def test_too_new(skew):
    with pytest.raises(WebhookTimestampTooNew):
        verify(SECRET, vector_headers(), BODY, now=TIMESTAMP - skew)


def test_tolerance_is_a_keyword():
    verify(SECRET, vector_headers(), BODY, now=TIMESTAMP + 900, tolerance_s=900)
    with pytest.raises(WebhookTimestampTooOld):
        verify(SECRET, vector_headers(), BODY, now=TIMESTAMP + 11, tolerance_s=10)


# --- tampering --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [b'{"test": 2432232315}', b'{"test": 2432232314} ', b"", b'{"test":2432232314}', BODY.upper()],
)
def test_tampered_body(body):
    with pytest.raises(WebhookSignatureMismatch):
        verify(SECRET, vector_headers(), body, now=TIMESTAMP)


def test_tampered_id():
    with pytest.raises(WebhookSignatureMismatch):
        verify(SECRET, vector_headers(**{"webhook-id": MSG_ID + "x"}), BODY, now=TIMESTAMP)


def test_tampered_timestamp():
    with pytest.raises(WebhookSignatureMismatch):
        verify(SECRET, vector_headers(**{"webhook-timestamp": str(TIMESTAMP + 1)}), BODY,
               now=TIMESTAMP)


def test_leading_zero_timestamp_is_not_the_signed_text():
    with pytest.raises(WebhookSignatureMismatch):
        verify(SECRET, vector_headers(**{"webhook-timestamp": f"0{TIMESTAMP}"}), BODY,
               now=TIMESTAMP)


def test_other_secret():
    with pytest.raises(WebhookSignatureMismatch):
        verify(new_secret(), vector_headers(), BODY, now=TIMESTAMP)


@pytest.mark.parametrize(
    "signature",
    [
        "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OF=",
        "v1,",
        "v1",
        "g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "v2,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "v1a,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        "V1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
        SIGNATURE[:-1],
        SIGNATURE + "=",
        "v1,é",
        "v1,\ud800",
    ],
)
def test_bad_signatures(signature):
    with pytest.raises(WebhookSignatureMismatch):
        verify(SECRET, vector_headers(**{"webhook-signature": signature}), BODY, now=TIMESTAMP)


# --- key rotation -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "signature",
    [
        f"v1,Zm9vYmFyYmF6 {SIGNATURE}",
        f"{SIGNATURE} v1,Zm9vYmFyYmF6",
        f"v1a,abc v2,def {SIGNATURE}",
        f"{sign('whsec_' + 'b3RoZXIta2V5LWZvci1yb3RhdGlvbi10ZXN0cw==', MSG_ID, TIMESTAMP, BODY)} {SIGNATURE}",
    ],
    ids=["junk-first", "junk-last", "other-versions", "rotated-key-first"],
)
def test_any_one_valid_signature_passes(signature):
    verify(SECRET, vector_headers(**{"webhook-signature": signature}), BODY, now=TIMESTAMP)


def test_rotation_old_and_new_keys_both_verify():
    old, new = new_secret(), new_secret()
    both = f"{sign(old, MSG_ID, TIMESTAMP, BODY)} {sign(new, MSG_ID, TIMESTAMP, BODY)}"
    for secret in (old, new):
        verify(secret, vector_headers(**{"webhook-signature": both}), BODY, now=TIMESTAMP)
    with pytest.raises(WebhookSignatureMismatch):
        verify(new_secret(), vector_headers(**{"webhook-signature": both}), BODY, now=TIMESTAMP)


# --- headers ----------------------------------------------------------------------------------


def test_header_names_are_case_insensitive():
    h = {"Webhook-Id": MSG_ID, "WEBHOOK-TIMESTAMP": str(TIMESTAMP), "webhook-Signature": SIGNATURE}
    verify(SECRET, h, BODY, now=TIMESTAMP)


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_missing_header(name):
    h = vector_headers()
    del h[name]
    with pytest.raises(WebhookHeadersMissing, match=name):
        verify(SECRET, h, BODY, now=TIMESTAMP)


@pytest.mark.parametrize("name", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_empty_header(name):
    with pytest.raises(WebhookHeadersMissing, match=name):
        verify(SECRET, vector_headers(**{name: ""}), BODY, now=TIMESTAMP)


def test_no_headers_at_all():
    with pytest.raises(WebhookHeadersMissing):
        verify(SECRET, {}, BODY, now=TIMESTAMP)


@pytest.mark.parametrize(
    "stamp", ["abc", "-1614265330", "1614265330.5", "1.6e9", " 1614265330", "1614265330\n",
              "1_614_265_330", "١٦١٤٢٦٥٣٣٠", "9" * 40],
)
def test_invalid_timestamp(stamp):
    with pytest.raises(WebhookTimestampInvalid):
        verify(SECRET, vector_headers(**{"webhook-timestamp": stamp}), BODY, now=TIMESTAMP)


def test_headers_make_fresh_ids_and_use_now():
    a = headers(SECRET, BODY, now=TIMESTAMP)
    b = headers(SECRET, BODY, now=TIMESTAMP)
    assert a["webhook-id"] != b["webhook-id"]
    assert a["webhook-id"].startswith("msg_")
    assert a["webhook-timestamp"] == str(TIMESTAMP)
    verify(SECRET, a, BODY, now=TIMESTAMP)


def test_headers_default_to_the_current_time():
    import time

    h = headers(SECRET, BODY)
    assert abs(int(h["webhook-timestamp"]) - time.time()) < 5
    verify(SECRET, h, BODY, now=time.time())


@given(body=st.binary(max_size=512), msg_id=st.text(min_size=1, max_size=40).filter(str.strip),
       offset=st.integers(-300, 300))
def test_headers_then_verify_round_trips(body, msg_id, offset):
    h = headers(SECRET, body, msg_id=msg_id, now=TIMESTAMP)
    assert verify(SECRET, h, body, now=TIMESTAMP + offset) == VerifiedWebhook(msg_id, TIMESTAMP)


# --- secrets ----------------------------------------------------------------------------------


def test_secret_key_decodes_the_bytes_after_the_prefix():
    assert secret_key(SECRET) == base64.b64decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")


def test_new_secret_is_well_formed_and_random():
    a, b = new_secret(), new_secret()
    assert a != b
    assert a.startswith("whsec_")
    assert len(secret_key(a)) == webhooks.SECRET_BYTES


@pytest.mark.parametrize(
    "secret",
    ["", "whsec_", "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_not base64!", "whsec_abc",
     "WHSEC_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\n", None],
)
def test_malformed_secret_is_refused(secret):
    with pytest.raises(ValueError):
        secret_key(secret)
    with pytest.raises(ValueError):
        sign(secret, MSG_ID, TIMESTAMP, BODY)
    with pytest.raises(ValueError):
        headers(secret, BODY, now=TIMESTAMP)
    with pytest.raises(ValueError):
        verify(secret, vector_headers(), BODY, now=TIMESTAMP)


def test_exceptions_share_one_base():
    for exc in (WebhookHeadersMissing, WebhookTimestampInvalid, WebhookTimestampTooOld,
                WebhookTimestampTooNew, WebhookSignatureMismatch):
        assert issubclass(exc, WebhookVerificationError)
