"""One webhook attempt over HTTP: the outbound guard on the address connected to, and the deadline."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from entrygate.adapters.http.outbound import OutboundPolicy
from entrygate.adapters.http.transport import DeadlineTransport
from entrygate.adapters.http.webhooks import LIMITS, HttpWebhookSender


def _resolves_to(address: str):  # noqa: ANN202
    def resolve(host, port, **kwargs):  # noqa: ANN001, ANN202
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
    return resolve


def test_a_name_that_resolves_to_a_private_address_is_refused_at_the_connection():
    for address in ("127.0.0.1", "10.1.2.3", "169.254.169.254"):
        transport = DeadlineTransport(limits=LIMITS, policy=OutboundPolicy(resolver=_resolves_to(address)))
        sender = HttpWebhookSender(transport=transport)
        result = sender.send("https://hooks.example/in", b"{}", {})
        sender.close()
        assert result.status_code is None and not result.delivered
        assert "refuses to connect" in result.error and address in result.error


def test_plain_http_is_refused_unless_private_urls_are_allowed():
    sender = HttpWebhookSender()
    result = sender.send("http://hooks.example/in", b"{}", {})
    sender.close()
    assert result.status_code is None and "must use https" in result.error


class _Slow(BaseHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802
        self.rfile.read(int(self.headers["content-length"]))
        time.sleep(float(self.path.strip("/")))
        self.send_response(202)
        self.send_header("content-length", "0")
        self.end_headers()


def test_an_attempt_ends_by_its_deadline_and_a_quick_answer_is_delivered():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    sender = HttpWebhookSender(allow_private_urls=True, deadline_s=0.5)
    try:
        started = time.monotonic()
        slow = sender.send(base + "/2", b"{}", {"webhook-id": "msg_1"})
        assert time.monotonic() - started < 1.0
        assert slow.status_code is None and "within 0.5 s" in slow.error
        quick = sender.send(base + "/0", b"{}", {"webhook-id": "msg_1"})
        assert quick.delivered and quick.status_code == 202 and quick.error is None
    finally:
        sender.close()
        server.shutdown()
        server.server_close()
