"""One way to show a visitor, the CSV written in chunks, the gate states, without a server."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

from entrygate.console import exports
from entrygate.console.display import short_id, visitor_display
from entrygate.services.console.investigation import SILENT_AFTER, TRAFFIC_WINDOW, GateState, gate_state


def test_a_visitor_is_shown_the_same_way_for_every_channel():
    card = visitor_display(visitor_id="ins_0123456789abcdef", channel="CREDIT_CARD", brand="VISA", last4="1896")
    assert (card.label, card.short_id, card.full_id) == ("Visa •••• 1896", "ins_0123…cdef", "ins_0123456789abcdef")
    palm = visitor_display(visitor_id="ins_0123456789abcdef", channel="PALM", brand="MASTERCARD", last4="4444")
    assert palm.label == "Palm · Mastercard •••• 4444" and palm.short_id == card.short_id
    qr = visitor_display(visitor_id="member-7", channel="QR_CODE", visitor_type="SHOPPER")
    badge = visitor_display(visitor_id="emp-42", channel="BADGE", visitor_type="ASSOCIATE")
    assert (qr.label, qr.short_id, qr.associate) == ("QR", "member-7", False)
    assert (badge.label, badge.short_id, badge.associate) == ("Badge", "emp-42", True)
    assert visitor_display(visitor_id=None, channel="CREDIT_CARD") is None
    assert short_id("x" * 13) == "x" * 13 and short_id("x" * 14) == "xxxxxxxx…xxxx"


def test_the_csv_is_written_in_chunks_as_its_rows_come(monkeypatch):
    monkeypatch.setattr(exports, "CHUNK_CHARS", 100)
    pulled = []

    def rows():
        for n in range(50):
            pulled.append(n)
            yield n

    chunks = exports.csv_chunks(("n", "text"), rows(), lambda n: [n, "=1+1" if n == 3 else "x" * 20])
    first = next(chunks)
    assert first.startswith("n,text\r\n") and len(pulled) < 10  # the first chunk left before the rows ran out
    text = first + "".join(chunks)
    assert len(pulled) == 50
    assert [r[0] for r in csv.reader(io.StringIO(text))][1:] == [str(n) for n in range(50)]


def test_silent_means_traffic_in_the_hour_and_none_in_ten_minutes():
    now = datetime(2026, 11, 27, 18, 0, tzinfo=UTC)
    assert gate_state(None, now=now) is GateState.IDLE
    assert gate_state(now - SILENT_AFTER + timedelta(seconds=1), now=now) is GateState.SENDING
    assert gate_state(now - SILENT_AFTER - timedelta(seconds=1), now=now) is GateState.SILENT
    assert gate_state(now - TRAFFIC_WINDOW - timedelta(seconds=1), now=now) is GateState.IDLE
