"""The agent's state file and the bundle's format, without any network."""
from __future__ import annotations

import concurrent.futures
import hashlib
import hmac
import threading
from datetime import UTC, datetime

import pytest

from entrygate.agent.state import AgentState
from entrygate.domain.offline import BundleInvalid, OfflineBundle, b64url, b64url_decode, card_lookup_key, payload_bytes

NOW = datetime(2026, 12, 1, tzinfo=UTC)


def test_a_cards_lookup_key_is_the_salted_hmac_of_its_par_or_its_token():
    salt = b"s" * 32
    expected = b64url(hmac.new(salt, b"par:V0010013022298169667504271781", hashlib.sha256).digest())
    assert card_lookup_key(salt, par="V0010013022298169667504271781", payment_token="tok_x") == expected
    assert card_lookup_key(salt, par=None, payment_token="tok_x") == "tok:tok_x"
    assert card_lookup_key(b"t" * 32, par="V0010013022298169667504271781", payment_token="tok_x") != expected
    assert b64url_decode(b64url(b"\x00\xff" * 7)) == b"\x00\xff" * 7


@pytest.mark.parametrize("payload", [b"not json", b"[]", payload_bytes({"gateId": "lane-1"}),
                                     payload_bytes({"gateId": "", "storeId": "s", "expiresAt": "2026-12-02T00:00:00Z",
                                                    "lookupSalt": "AA", "instruments": [], "limits": {}})])
def test_a_payload_that_is_not_a_bundle_is_refused(payload):
    with pytest.raises(BundleInvalid):
        OfflineBundle.from_payload(payload)


def test_one_event_decided_at_two_lanes_of_the_same_agent_at_once_is_recorded_once(tmp_path):
    state = AgentState(tmp_path)
    at_once = threading.Barrier(8)

    def record(i: int) -> dict:
        at_once.wait(5)
        return state.record(event_id="evt-1", kind="ENTRY", request={"eventId": "evt-1"}, answer={"n": i},
                            instrument_id="ins_1", bundle_id="ofb_1", exposure_minor=2500, at=NOW)

    with concurrent.futures.ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(record, range(8)))
    assert len({a["n"] for a in answers}) == 1  # every caller hears the one answer stored
    assert state.pending_count() == 1 and state.exposure_of("ofb_1") == 2500 and state.entries_of("ins_1", "ofb_1") == 1
    state.mark_uploaded(["evt-1"], at=NOW)
    assert state.pending_count() == 0 and state.decided("evt-1")[1] == answers[0]


def test_the_state_survives_a_reopen(tmp_path):
    state = AgentState(tmp_path)
    state.keep_signing_keys({"ofk_1": "AAAA"})
    state.keep_bundle({"bundleId": "ofb_1"}, at=NOW)
    state.record(event_id="e", kind="EXIT", request={}, answer={"ok": True}, instrument_id=None, bundle_id=None,
                 exposure_minor=0, at=NOW)
    state.close()
    again = AgentState(tmp_path)
    assert again.signing_keys() == {"ofk_1": "AAAA"} and again.bundle() == {"bundleId": "ofb_1"}
    assert [p.event_id for p in again.pending(10)] == ["e"]
