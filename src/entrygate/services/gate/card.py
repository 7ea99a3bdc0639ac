"""``CREDIT_CARD`` entry: the terminal's token and PAR identify a payment instrument."""
from __future__ import annotations

from entrygate.domain.cards import CardCredential, instrument_id
from entrygate.domain.reasons import ReasonCode
from entrygate.services.gate.context import EntryContext


class CardHandler:
    def __init__(self, *, secret: bytes) -> None:
        self._secret = secret

    def identify(self, ctx: EntryContext) -> None:
        card = ctx.event.credential
        if not isinstance(card, CardCredential):
            ctx.decision.deny(ReasonCode.INVALID_CREDENTIAL)
            return
        ctx.card = card
        ctx.instrument_id = instrument_id(card, secret=self._secret)
