"""The demo's terminal lines: one per gate decision and one per step of a trip's money, in one set of columns."""
from __future__ import annotations

from typing import Any

from rich.markup import escape

# What each first word means, in the order a trip lives through them.
KINDS = {
    "OPEN": "green", "DENY": "red",
    "CAPT": "blue",       # the back office captured the basket through the trip's hold
    "RPRT": "blue",       # the back office charged on its own and reported it (payment-status feedback)
    "VOID": "magenta",    # an empty basket: the back office cancelled the hold
    "DECL": "yellow",     # the capture was declined: the basket is unpaid, a debt
    "DEBT": "yellow",     # reported unpaid through the feedback API: a debt
    "PAID": "cyan",       # a debt settled, reported through the feedback API: access restored
    "CLOSE": "magenta",   # the platform closed a trip nobody scanned out (closedBy TIMEOUT)
    "FAIL": "red",        # the platform refused a settlement: the demo says why and goes on
}
_COLUMNS = ((5, "WHAT"), (14, "STORE"), (11, "CHANNEL"), (29, "SHOPPER"), (38, "REASONS / PAYMENT"),
            (8, "RISK"), (8, "BY"), (9, "LATENCY"), (0, "TRIP"))


def header() -> str:
    """The line naming the columns, printed once above the others."""
    cells = [f"{name:>{width}}" if name == "LATENCY" else f"{name:<{width}}" for width, name in _COLUMNS]
    return "[bold]" + " ".join(cells).rstrip() + "[/]"


def decision_line(label: str, channel: str, store: str, answer: dict[str, Any]) -> str:
    """``OPEN``/``DENY``: who came to which gate, why, the risk score, who decided, how fast, the trip."""
    decision = answer["decision"]
    reasons = ", ".join(r["code"] for r in answer.get("reasons", [])) or "-"
    party = f"x{answer.get('partySize')}" if answer.get("partySize", 1) > 1 else ""
    risk = f"risk {answer['risk']['score']:>3}" if answer.get("risk") else ""
    latency = f"{answer.get('latencyMs', 0):6.1f} ms"
    who = f"{label:<26}{party:<3}"
    return _line(decision, store, channel, who, reasons, risk, answer.get("decidedBy", ""), latency,
                 answer.get("shoppingTripId") or "")


def money_line(kind: str, store: str, channel: str, label: str, detail: str, trip_id: str) -> str:
    """A step of a trip's money or its end: what the back office did, or how the trip closed."""
    return _line(kind, store, channel, label, detail, "", "", "", trip_id)


def _line(kind: str, *cells: str) -> str:
    rest = " ".join(f"{cell:>{width}}" if name == "LATENCY" else f"{cell:<{width}}"
                    for cell, (width, name) in zip(cells, _COLUMNS[1:]))
    return f"[{KINDS.get(kind, 'white')}]{kind:<5}[/] {escape(rest.rstrip())}"
