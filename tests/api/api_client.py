"""Calling /api/v1 as demo people in API tests, and checking problem+json answers."""

from __future__ import annotations

from typing import Any

import httpx2 as httpx
from fastapi.testclient import TestClient

from flowdesk.services import demo

API = "/api/v1"


class Api:
    """Calls /api/v1 as demo people, each with their own bearer token."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._tokens: dict[str, str] = {}

    def token(self, username: str) -> str:
        if username not in self._tokens:
            response = self.client.post(
                f"{API}/auth/token",
                json={"username": username, "password": demo.DEMO_PASSWORD, "name": "tests"},
            )
            assert response.status_code == 200, response.text
            self._tokens[username] = response.json()["token"]
        return self._tokens[username]

    def headers(self, username: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}"}

    def get(self, username: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers(username), **kwargs.pop("headers", {})}
        return self.client.get(f"{API}{path}", headers=headers, **kwargs)

    def post(self, username: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers(username), **kwargs.pop("headers", {})}
        return self.client.post(f"{API}{path}", headers=headers, **kwargs)


def loan_values(amount: str = "120000.00", **overrides: object) -> dict[str, object]:
    values: dict[str, object] = {
        "applicant_name": "张三",
        "amount": amount,
        "term_months": 36,
        "credit_rating": "A",
        "region": "north",
        "purpose": "Working capital for a bakery",
    }
    values.update(overrides)
    return values


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """An RFC 9457 problem with our stable code; returns the body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "code"} <= set(body)
    assert body["status"] == status
    assert body["code"] == code, body
    assert body["type"].endswith(code)
    assert "Traceback" not in response.text
    # Every problem names its request, as the X-Request-ID header and the logs do.
    assert body["request_id"] == response.headers["x-request-id"], body
    return body


def without_request_id(body: dict[str, Any]) -> dict[str, Any]:
    """A problem body without what differs between any two requests."""
    return {key: value for key, value in body.items() if key != "request_id"}


def publish_yaml(api: Api, text: str) -> None:
    """Publishes an app version as the administrator, through the API."""
    published = api.post(
        "admin", "/admin/apps", content=text.encode(), headers={"content-type": "application/yaml"}
    )
    assert published.status_code == 200, published.text
