"""For the service task (webhook) tests: a real HTTP receiver on 127.0.0.1 in a thread, and
an app whose process calls it: start → tell_core (service task) → review → end."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from ipaddress import ip_network
from itertools import pairwise
from typing import Any

from approval_apps import Step, line_app, yaml_of
from flowdesk.services import apps
from flowdesk.services.context import ServiceContext
from flowdesk.services.webhook_policy import WebhookPolicy

SECRET_NAME = "core_hook"
SECRET = "s3cret-for-tests-only"
LOOPBACK_ALLOWED = WebhookPolicy(
    secrets={SECRET_NAME: SECRET},
    allow_networks=(ip_network("127.0.0.0/8"),),
    timeout_seconds=2.0,
    max_response_bytes=4096,
)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next scripted (status, headers, body), then 200s."""

    port: int = 0
    script: list[tuple[int, dict[str, str], bytes]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    hold: threading.Event | None = None  # set: requests wait for it before answering

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def answer(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> None:
        self.script.append((status, headers or {}, body))


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            with lock:
                state.received.append(Received(self.path, dict(self.headers.items()), body))
                status, headers, answer = state.script.pop(0) if state.script else (200, {}, b"")
            if state.hold is not None:
                state.hold.wait(10)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        if state.hold is not None:
            state.hold.set()
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def webhook_definition(
    url: str, key: str = "hooked", *, secret: str | None = SECRET_NAME
) -> dict[str, Any]:
    definition = line_app(
        key,
        (Step("review", ("wang.fang",), name={"en": "Review", "zh": "审查"}),),
        name={"en": "Hooked loan", "zh": "通知贷款"},
    )
    webhook: dict[str, Any] = {
        "url": url,
        "headers": {"X-Source": "flowdesk-tests"},
        "body": {
            "amount": "form.amount",
            "applicant": "form.applicant_name",
            "serial": "ticket.serial",
            "ticket": "ticket.id",
            "app": "ticket.app",
        },
    }
    if secret is not None:
        webhook["secret"] = secret
    nodes = definition["process"]["nodes"]
    nodes.insert(
        1,
        {
            "id": "tell_core",
            "type": "service_task",
            "name": {"en": "Tell core banking", "zh": "通知核心系统"},
            "webhook": webhook,
        },
    )
    ids = [n["id"] for n in nodes]
    definition["process"]["flows"] = [{"from": a, "to": b} for a, b in pairwise(ids)]
    return definition


def publish_webhook_app(ctx: ServiceContext, url: str, key: str = "hooked") -> None:
    apps.publish_yaml(ctx, yaml_of(webhook_definition(url, key)))
