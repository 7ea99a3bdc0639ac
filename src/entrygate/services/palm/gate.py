"""The ``PALM`` channel at the gate: a live palm that matches an enrollment enters on its linked card."""
from __future__ import annotations

from entrygate.domain.credentials import PalmRead
from entrygate.domain.palm import liveness_passed
from entrygate.domain.reasons import ReasonCode
from entrygate.services.gate.context import Presentation
from entrygate.services.palm.service import PalmService


class PalmHandler:
    """``PALM`` entry (and exit): a live palm that matches an enrollment enters on its linked card."""

    def __init__(self, palm: PalmService) -> None:
        self._palm = palm

    def identify(self, ctx: Presentation) -> None:
        read = ctx.event.credential
        if not isinstance(read, PalmRead):
            ctx.refuse(ReasonCode.INVALID_CREDENTIAL)
            return
        # A malformed signature is a bad request (400), whatever the liveness says.
        probe = self._palm.decode_probe(read.signature, field="credential.signature")
        # Fail closed before any matching, so a presentation attack learns nothing about who is enrolled.
        if not liveness_passed(read.liveness, threshold=self._palm.liveness_threshold):
            ctx.refuse(ReasonCode.PALM_LIVENESS_FAILED)
            return
        link = self._palm.identify(probe)
        if link is None:
            ctx.refuse(ReasonCode.PALM_NO_MATCH)
            return
        ctx.card = link.card
        ctx.instrument_id = link.instrument_id
