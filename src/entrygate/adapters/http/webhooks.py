"""One webhook attempt over HTTP (``services/ports/events``' sender): a POST with a hard deadline.

The deadline (10 s, DESIGN 13) covers the whole attempt, connection and TLS included, through the
same ``DeadlineTransport`` the connectors use, behind the same outbound address guard: an endpoint
must be https to a public address, checked on the address actually connected to, unless
``ENTRYGATE_ALLOW_PRIVATE_URLS`` lifts it. Redirects are not followed (a 3xx is a failed attempt,
so a receiver cannot bounce the platform to an address the guard would refuse). Only the status
code matters; at most 64 KiB of an answer is read, so a large one cannot hold the worker.
"""
from __future__ import annotations

import time
from collections.abc import Mapping

import httpx

from entrygate.adapters.http.outbound import OutboundPolicy, OutboundRefused
from entrygate.adapters.http.transport import DeadlineTransport, deadline
from entrygate.domain.events import ATTEMPT_DEADLINE_S
from entrygate.services.ports.events import AttemptResult

LIMITS = httpx.Limits(max_connections=64, max_keepalive_connections=16, keepalive_expiry=4.0)
_READ_AT_MOST = 64 * 1024
USER_AGENT = "entrygate-webhooks/1"


class HttpWebhookSender:
    def __init__(self, *, allow_private_urls: bool = False, deadline_s: float = ATTEMPT_DEADLINE_S,
                 transport: httpx.BaseTransport | None = None) -> None:
        self._deadline_s = deadline_s
        self._client = httpx.Client(
            transport=transport or DeadlineTransport(limits=LIMITS, policy=OutboundPolicy(allow_private=allow_private_urls)),
            timeout=deadline_s, follow_redirects=False, trust_env=False)

    def send(self, url: str, body: bytes, headers: Mapping[str, str]) -> AttemptResult:
        started = time.monotonic()
        sent = {**headers, "content-type": "application/json", "user-agent": USER_AGENT}

        def took() -> float:
            return (time.monotonic() - started) * 1000
        try:
            with deadline(started + self._deadline_s):
                with self._client.stream("POST", url, content=body, headers=sent) as answer:
                    read = 0
                    for chunk in answer.iter_raw():
                        read += len(chunk)
                        if read >= _READ_AT_MOST:
                            break
                    code = answer.status_code
        except OutboundRefused as exc:
            return AttemptResult(None, str(exc), took())
        except httpx.TimeoutException:
            return AttemptResult(None, f"no answer within {self._deadline_s:g} s", took())
        except httpx.HTTPError as exc:
            return AttemptResult(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__, took())
        ok = 200 <= code < 300
        return AttemptResult(code, None if ok else f"answered HTTP {code}", took())

    def close(self) -> None:
        self._client.close()
