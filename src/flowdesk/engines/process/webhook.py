"""Service tasks (BPMN serviceTask): a token passes through at once and asks for a webhook
call, which the service layer queues in the step's own transaction (an outbox job) and
the worker delivers after commit (ADR 0024).

    - id: notify_core
      type: service_task
      webhook:
        url: https://hooks.example.com/loans
        method: POST                    # the only method
        headers: {X-Source: flowdesk}   # no secrets here
        secret: core_hook               # a name; its value is configuration
        body: {amount: form.amount, ticket: ticket.serial}

A definition never holds a secret: headers that carry credentials (Authorization,
Cookie, an API key) and credentials in the URL are refused; `secret` names a value the
installation configures (FLOWDESK_WEBHOOKS__SECRETS), which signs the body. Whether that
name is configured, and whether a literal address in the URL is private, are the
installation's to say: the service checks both when the app is published.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import ClassVar
from urllib.parse import urlsplit

from flowdesk.kernel.records import record

AddProblem = Callable[[str, str, str], None]

MAX_URL_LENGTH = 2000
MAX_HEADERS = 20
MAX_BODY_KEYS = 50
METHODS = ("POST",)
# What a body value may name: a form field's value at the step, or a ticket's attribute.
TICKET_FIELDS = ("id", "serial", "app", "status")
_KEYS = frozenset({"url", "method", "headers", "secret", "body"})
_HEADER_NAME = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}")
_SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
_BODY_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]{0,63}")
# Headers flowdesk writes itself, and headers that carry credentials (use `secret`).
RESERVED_HEADERS = frozenset(
    {
        "host",
        "content-length",
        "content-type",
        "connection",
        "transfer-encoding",
        "idempotency-key",
        "x-flowdesk-signature",
        "x-flowdesk-delivery",
    }
)
SECRET_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "cookie", "x-api-key", "api-key", "x-auth-token"}
)


@record
class Webhook:
    """What a service task calls. `body` maps each JSON key to what fills it:
    ("form", field key) or ("ticket", one of TICKET_FIELDS)."""

    url: str
    method: str = "POST"
    headers: tuple[tuple[str, str], ...] = ()
    secret: str = ""
    body: tuple[tuple[str, tuple[str, str]], ...] = ()

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    def form_fields(self) -> tuple[str, ...]:
        return tuple(name for source, name in (ref for _key, ref in self.body) if source == "form")

    def to_dict(self) -> dict[str, object]:
        data: dict[str, object] = {"url": self.url}
        if self.method != "POST":
            data["method"] = self.method
        if self.headers:
            data["headers"] = dict(self.headers)
        if self.secret:
            data["secret"] = self.secret
        if self.body:
            data["body"] = {key: f"{source}.{name}" for key, (source, name) in self.body}
        return data


@record
class WebhookRequested:
    """A token went through service task `node_id`: call its webhook with `form`, the
    values its body names as they are at this step (the ticket's attributes are the
    service's to fill). The token has passed on; delivery is fire-and-forget."""

    kind: ClassVar[str] = "webhook_requested"
    node_id: str
    webhook: Webhook
    form: tuple[tuple[str, object], ...]

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "node_id": self.node_id, "url": self.webhook.url}


def requested(node_id: str, webhook: Webhook, values: Mapping[str, object]) -> WebhookRequested:
    """The call a token asks for at `node_id`, with the form values of this moment."""
    form = tuple((name, values.get(name)) for name in dict.fromkeys(webhook.form_fields()))
    return WebhookRequested(node_id, webhook, form)


def parse_webhook(value: object, path: str, add: AddProblem) -> Webhook | None:
    """A service task's `webhook`, every problem reported at its path."""
    if not isinstance(value, Mapping):
        add(path, "wrong_type", "webhook is a mapping: {url: https://…, body: {…}}")
        return None
    for key in value:
        if key not in _KEYS:
            add(f"{path}.{key}", "unknown_key", f"Expected one of: {', '.join(sorted(_KEYS))}")
    url = _parse_url(value.get("url"), f"{path}.url", add)
    method = value.get("method", "POST")
    if method not in METHODS:
        add(f"{path}.method", "unsupported_method", "A webhook is sent with POST")
    headers = _parse_headers(value.get("headers", {}), f"{path}.headers", add)
    secret = value.get("secret", "")
    if not isinstance(secret, str) or (secret and not _SECRET_NAME.fullmatch(secret)):
        add(
            f"{path}.secret",
            "invalid_secret_name",
            "The name of a configured secret (letters, digits, _ . -), never the secret",
        )
        secret = ""
    body = _parse_body(value.get("body", {}), f"{path}.body", add)
    if url is None or headers is None or body is None or method not in METHODS:
        return None
    return Webhook(url, "POST", headers, secret, body)


def _parse_url(value: object, path: str, add: AddProblem) -> str | None:
    if not isinstance(value, str) or not value.strip():
        add(path, "required", "The webhook's URL, such as https://hooks.example.com/loans")
        return None
    if len(value) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in value):
        add(path, "invalid_url", f"A URL of at most {MAX_URL_LENGTH} characters, no spaces")
        return None
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        add(path, "invalid_url", "Not a valid URL (check the host and the port)")
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        add(path, "invalid_url", "The URL must start with https:// or http:// and name a host")
        return None
    if parts.username is not None or parts.password is not None:
        add(
            path,
            "secret_in_definition",
            "Credentials in the URL are a secret in the definition; name a configured "
            "secret with `secret` instead",
        )
        return None
    if parts.fragment or port == 0:
        add(path, "invalid_url", "A webhook URL has no #fragment and a port from 1 to 65535")
        return None
    return value


def _parse_headers(value: object, path: str, add: AddProblem) -> tuple[tuple[str, str], ...] | None:
    if not isinstance(value, Mapping):
        add(path, "wrong_type", "headers map a header name to its text")
        return None
    if len(value) > MAX_HEADERS:
        add(path, "too_many_headers", f"At most {MAX_HEADERS} headers")
        return None
    headers: list[tuple[str, str]] = []
    ok = True
    for name, text in value.items():
        at = f"{path}.{name}"
        if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
            add(at, "invalid_header", "A header name is letters, digits and - (at most 64)")
            ok = False
        elif name.lower() in SECRET_HEADERS:
            add(
                at,
                "secret_in_definition",
                f"'{name}' carries credentials; name a configured secret with `secret` instead",
            )
            ok = False
        elif name.lower() in RESERVED_HEADERS:
            add(at, "reserved_header", f"flowdesk sets '{name}' itself")
            ok = False
        elif not isinstance(text, str) or len(text) > 1000 or any(ord(c) < 32 for c in text):
            add(at, "invalid_header", "A header's value is one line of text (at most 1000)")
            ok = False
        else:
            headers.append((name, text))
    return tuple(headers) if ok else None


def _parse_body(
    value: object, path: str, add: AddProblem
) -> tuple[tuple[str, tuple[str, str]], ...] | None:
    if not isinstance(value, Mapping):
        add(path, "wrong_type", "body maps a JSON key to form.<field> or ticket.<attribute>")
        return None
    if len(value) > MAX_BODY_KEYS:
        add(path, "too_many_keys", f"At most {MAX_BODY_KEYS} keys")
        return None
    body: list[tuple[str, tuple[str, str]]] = []
    ok = True
    for key, source in value.items():
        at = f"{path}.{key}"
        if not isinstance(key, str) or not _BODY_KEY.fullmatch(key):
            add(at, "invalid_key", "A body key is letters, digits, _ . - (at most 64)")
            ok = False
            continue
        kind, _, name = source.partition(".") if isinstance(source, str) else ("", "", "")
        if kind == "form" and name:
            body.append((key, ("form", name)))
        elif kind == "ticket" and name in TICKET_FIELDS:
            body.append((key, ("ticket", name)))
        else:
            add(
                at,
                "invalid_body_value",
                "Expected form.<field key> or ticket.<"
                + "|".join(TICKET_FIELDS)
                + ">, such as form.amount",
            )
            ok = False
    return tuple(body) if ok else None
