"""The simulated gate sends a request that got no answer again, with the same event id."""
from __future__ import annotations

import json

import httpx
import pytest

from entrygate.simulation.gate import ATTEMPTS, SimulatedGate


def gate_with(answers: list) -> tuple[SimulatedGate, list[dict]]:
    bodies: list[dict] = []

    def handle(request: httpx.Request) -> httpx.Response:
        bodies.append(json.loads(request.content))
        answer = answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(200, json=answer)

    client = httpx.Client(base_url="http://platform.test", transport=httpx.MockTransport(handle))
    return SimulatedGate("http://platform.test", "lane-1", "key", client=client), bodies


def test_an_entry_without_an_answer_is_sent_again_with_the_same_event_id():
    gate, bodies = gate_with([httpx.RemoteProtocolError("Server disconnected without sending a response."),
                              {"decision": "OPEN"}])
    assert gate.enter("CREDIT_CARD", {"paymentToken": "tok_visa"}) == {"decision": "OPEN"}
    assert len(bodies) == 2 and bodies[0] == bodies[1]


def test_an_exit_gives_up_after_its_attempts():
    gate, bodies = gate_with([httpx.ConnectError("refused")] * ATTEMPTS)
    with pytest.raises(httpx.ConnectError):
        gate.exit("trip_1")
    assert len(bodies) == ATTEMPTS and len({b["eventId"] for b in bodies}) == 1
