"""Helpers for the web UI tests: a person's browser on top of FastAPI's TestClient."""

from __future__ import annotations

import re

import httpx2 as httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient

from flowdesk.services import demo

CSRF_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')

LOAN = {
    "applicant_name": "李雷",
    "amount": "120,000.00",
    "term_months": "36",
    "credit_rating": "A",
    "region": "north",
    "purpose": "经营周转",
}


class Browser:
    """One person's browser: a cookie jar, a language, and the steps people take."""

    def __init__(
        self, app: FastAPI, locale: str = "zh", base_url: str = "http://testserver"
    ) -> None:
        self.client = TestClient(app, base_url=base_url)
        self.client.headers["Accept-Language"] = (
            "zh-CN,zh;q=0.9,en;q=0.8" if locale == "zh" else "en-US,en;q=0.9"
        )
        self.username: str | None = None

    def get(self, url: str, **kwargs: object) -> httpx.Response:
        return self.client.get(url, **kwargs)  # type: ignore[arg-type]

    def post(self, url: str, **kwargs: object) -> httpx.Response:
        return self.client.post(url, **kwargs)  # type: ignore[arg-type]

    def login_form_token(self, next_path: str = "/") -> str:
        page = self.get("/login", params={"next": next_path})
        assert page.status_code == 200
        return csrf_from(page.text)

    def login(
        self, username: str, password: str = demo.DEMO_PASSWORD, next_path: str = "/"
    ) -> httpx.Response:
        token = self.login_form_token(next_path)
        response = self.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "csrf_token": token,
                "next": next_path,
            },
            follow_redirects=False,
        )
        if response.status_code == 303:
            self.username = username
        return response

    def csrf(self) -> str:
        """The session's CSRF token, as a page carries it."""
        return csrf_from(self.get("/apps").text)

    def submit_loan(self, **overrides: str) -> httpx.Response:
        data = {**LOAN, **overrides, "csrf_token": self.csrf()}
        return self.post("/apps/loan/new", data=data, follow_redirects=False)

    def file_loan(self, **overrides: str) -> str:
        """Submits a valid loan and returns the new ticket's id."""
        response = self.submit_loan(**overrides)
        assert response.status_code == 303, response.text
        return response.headers["location"].rsplit("/", 1)[1]


def csrf_from(html: str) -> str:
    found = CSRF_INPUT.search(html)
    assert found, "page has no CSRF token"
    return found.group(1)
