"""One webhook request, guarded (ADR 0024): the host resolved and every address checked,
the connection made to a checked address (a name that resolves differently a moment
later cannot slip a private address in), a timeout on every network wait, the answer
read up to a limit, and a redirect followed only to an address that passes the same
check (307 and 308, which keep the method and the body; any other redirect fails).

The standard library's http.client, since it follows no redirect by itself and lets the
connection be made to the address we checked while TLS still verifies the host name.
"""

from __future__ import annotations

import http.client
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from flowdesk.services.webhook_policy import (
    Address,
    WebhookPolicy,
    literal_address,
    refusal,
)

# Answers worth trying again later; any other 4xx is the receiver refusing this request.
RETRYABLE_STATUSES = frozenset({408, 425, 429})


class DeliveryFailed(Exception):
    """`permanent`: trying again cannot help (a refused address, a 4xx answer); the job
    gives up at once instead of spending its attempts."""

    def __init__(self, code: str, message: str, *, permanent: bool = False) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.permanent = permanent


@dataclass(frozen=True)
class Answer:
    status: int
    url: str  # where it was finally answered (after redirects)


def post(url: str, body: bytes, headers: dict[str, str], policy: WebhookPolicy) -> Answer:
    """POSTs `body`; a 2xx Answer, else DeliveryFailed saying why."""
    for _ in range(policy.max_redirects + 1):
        status, location = _post_once(url, body, headers, policy)
        if 200 <= status < 300:
            return Answer(status, url)
        if status in (307, 308) and location:
            url = urljoin(url, location)
            if urlsplit(url).scheme not in ("http", "https"):
                raise DeliveryFailed("bad_redirect", "redirected away from http(s)", permanent=True)
            continue
        if 300 <= status < 400:
            raise DeliveryFailed(
                "redirect_not_followed",
                f"answered {status}; only 307 and 308 redirects keep the POST",
                permanent=True,
            )
        permanent = 400 <= status < 500 and status not in RETRYABLE_STATUSES
        raise DeliveryFailed("http_status", f"answered {status}", permanent=permanent)
    raise DeliveryFailed("too_many_redirects", f"more than {policy.max_redirects}", permanent=True)


def checked_addresses(host: str, port: int, policy: WebhookPolicy) -> list[Address]:
    """Every address `host` resolves to, each allowed; refused (permanently) if one is not."""
    literal = literal_address(host)
    if literal is not None:
        found: list[Address] = [literal]
    else:
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise DeliveryFailed("dns_failed", f"{host} does not resolve ({exc})") from None
        resolved = (literal_address(str(info[4][0])) for info in infos)
        found = list(dict.fromkeys(a for a in resolved if a is not None))
        if not found:
            raise DeliveryFailed("dns_failed", f"{host} resolves to no address")
    for address in found:
        reason = refusal(address, policy.allow_networks)
        if reason:
            raise DeliveryFailed(
                "address_refused",
                f"{host} is {address}, a {reason.replace('_', '-')} address",
                permanent=True,
            )
    return found


def _post_once(
    url: str, body: bytes, headers: dict[str, str], policy: WebhookPolicy
) -> tuple[int, str | None]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    https = parts.scheme == "https"
    port = parts.port or (443 if https else 80)
    addresses = checked_addresses(host, port, policy)
    connection = _PinnedConnection(host, port, addresses, policy.timeout_seconds, https)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    default_port = port == (443 if https else 80)
    try:
        connection.request(
            "POST",
            target,
            body=body,
            headers={**headers, "Host": host if default_port else f"{host}:{port}"},
        )
        response = connection.getresponse()
        length = response.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > policy.max_response_bytes:
            raise DeliveryFailed("response_too_large", f"{length} bytes", permanent=True)
        if len(response.read(policy.max_response_bytes + 1)) > policy.max_response_bytes:
            raise DeliveryFailed(
                "response_too_large", f"over {policy.max_response_bytes} bytes", permanent=True
            )
        return response.status, response.getheader("Location")
    except DeliveryFailed:
        raise
    except TimeoutError:
        raise DeliveryFailed("timeout", f"no answer within {policy.timeout_seconds:g} s") from None
    except (OSError, http.client.HTTPException) as exc:
        raise DeliveryFailed("connection_failed", f"{type(exc).__name__}: {exc}") from None
    finally:
        connection.close()


class _PinnedConnection(http.client.HTTPConnection):
    """Connects to one of the addresses that were checked, never to what a second look-up
    would say; over TLS the certificate is still verified against the host name."""

    def __init__(
        self, host: str, port: int, addresses: list[Address], timeout: float, https: bool
    ) -> None:
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses
        self._https = https

    def connect(self) -> None:
        last: OSError | None = None
        for address in self._addresses:
            try:
                sock = socket.create_connection((str(address), self.port), self.timeout)
                break
            except OSError as exc:
                last = exc
        else:
            assert last is not None
            raise last
        if self._https:
            context = ssl.create_default_context()
            sock = context.wrap_socket(sock, server_hostname=self.host)
        self.sock = sock
