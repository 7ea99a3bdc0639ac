"""``CREDIT_CARD`` entry: the terminal's token and PAR identify a payment instrument."""
from __future__ import annotations

from entrygate.domain.cards import CardCredential, instrument_id
from entrygate.domain.reasons import ReasonCode
from entrygate.services.gate.context import Presentation


class CardHandler:
    def __init__(self, *, secret: bytes) -> None:
        self._secret = secret

    def identify(self, p: Presentation) -> None:
        card = p.event.credential
        if not isinstance(card, CardCredential):
            p.refuse(ReasonCode.INVALID_CREDENTIAL)
            return
        p.card = card
        p.instrument_id = instrument_id(card, secret=self._secret)
