"""Instrument ids never change (DESIGN 15): the derivation of before keys rotated, byte for byte, against
a fixed vector, through the key ring the platform builds its card and palm handlers with."""
from __future__ import annotations

import hashlib
import hmac

from entrygate.adapters.clock import FixedClock
from entrygate.adapters.keyring import KeyRing
from entrygate.adapters.memory.secrets import MemorySecretKeys
from entrygate.domain.cards import CardCredential, instrument_id
from support.factories import NOW

ROOT = b"test-secret-" + b"x" * 40  # support.server.TEST_SECRET
PAR = "V0010013022298169667504271781"
# Computed once from the derivation as it stood before migration 0007 and written out here.
VECTOR_PAR = "pi_kpebgbbikmbikdelpnnjachaoloeaohb"
VECTOR_TOKEN = "pi_bcdkokbhlpdblpdfmepebpfikaoiiifn"


def _card(par: str | None) -> CardCredential:
    return CardCredential(payment_token="tok_visa_approve", par=par, brand="VISA", last4="4242", exp_month=12,
                          exp_year=2030)


def test_the_instrument_id_is_the_fixed_vector_through_the_key_ring_before_and_after_rotations():
    ring = KeyRing(MemorySecretKeys(), ROOT, clock=FixedClock(NOW))
    assert instrument_id(_card(PAR), secret=ring.instrument_secret) == VECTOR_PAR
    assert instrument_id(_card(None), secret=ring.instrument_secret) == VECTOR_TOKEN
    for purpose in ("palm", "sessions", "offline"):
        ring.rotate(purpose)
    assert instrument_id(_card(PAR), secret=ring.instrument_secret) == VECTOR_PAR


def test_the_vector_is_hmac_sha256_of_the_par_under_the_secret_written_in_letters():
    digest = hmac.new(ROOT, f"par:{PAR}".encode(), hashlib.sha256).hexdigest()[:32]
    assert VECTOR_PAR == "pi_" + digest.translate(str.maketrans("0123456789abcdef", "abcdefghijklmnop"))
