"""A simulated card entry from the console, decided exactly as a gate's would be.

The simulated terminal (``simulation/terminal.py``) turns a public test card number into what a
real payment terminal hands a gate; the request then goes through the gate API's own parsing and
``EntryService.admit`` with the gate's identity, so the decision, the trip and the live view are
those of a real tap.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from entrygate.bootstrap import Container
from entrygate.domain.channels import GateDirection
from entrygate.domain.keys import KeyKind
from entrygate.services.auth import Principal
from entrygate.services.errors import InvalidRequest
from entrygate.simulation.terminal import TestCard, tokenize
from entrygate.wire.credentials import entry_event
from entrygate.wire.decisions import decision_answer


@dataclass(frozen=True, slots=True)
class TestCardChoice:
    number: str
    label: str


TEST_CARDS = (
    TestCardChoice("4242424242424242", "Visa 4242 — approves"),
    TestCardChoice("5555555555554444", "Mastercard 4444 — approves"),
    TestCardChoice("4000000000009995", "Visa 9995 — insufficient funds"),
    TestCardChoice("4000000000000002", "Visa 0002 — generic decline"),
    TestCardChoice("4000000000009987", "Visa 9987 — lost card (blocks the card)"),
    TestCardChoice("4000000000000069", "Visa 0069 — expired card"),
)
_KNOWN = {c.number for c in TEST_CARDS}


def simulate_entry(c: Container, principal: Principal, store_id: str, *, gate_id: str, card_number: str,
                   party_size: int) -> dict[str, Any]:
    """Tap a public test card at one of the store's entry gates; the gate's answer."""
    if card_number not in _KNOWN:
        raise InvalidRequest("card: choose one of the listed test cards", fields=["card"])
    gates = {g.gate_id: g for g in c.admin.list_gates(principal, store_id)}  # checks the store is theirs
    gate = gates.get(gate_id)
    if gate is None or gate.direction is not GateDirection.ENTRY:
        raise InvalidRequest("gate: choose one of the store's entry gates", fields=["gate"])
    data = {"eventId": str(uuid.uuid4()),
            "timestamp": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "channel": "CREDIT_CARD", "interactionType": "TAP", "partySize": party_size,
            "credential": tokenize(TestCard(card_number))}
    # From here on, exactly what POST /v1/gates/{gateId}/entries does with a body.
    event = entry_event(data)
    return decision_answer(c.entries.admit(Principal(KeyKind.GATE, gate_pk=gate.gate_pk), gate.gate_id, event))
