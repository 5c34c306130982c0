"""A leaked API token can be revoked by whoever holds it, and then stops working at once."""

from __future__ import annotations

from api_client import API, Api

from flowdesk.services import audit
from flowdesk.services.context import ServiceContext
from flowdesk.store import audit as audit_store


def test_a_revoked_token_stops_working_and_the_revocation_is_audited(
    api: Api, demo_ctx: ServiceContext
) -> None:
    headers = api.headers("zhang.wei")
    assert api.client.get(f"{API}/me", headers=headers).status_code == 200

    revoked = api.client.delete(f"{API}/auth/token", headers=headers)

    assert revoked.status_code == 204
    refused = api.client.get(f"{API}/me", headers=headers)
    assert refused.status_code == 401
    assert refused.json()["code"] == "invalid_token"
    assert api.client.delete(f"{API}/auth/token", headers=headers).status_code == 401
    # Another person's token is untouched.
    assert api.get("li.na", "/me").status_code == 200
    report = audit.verify(demo_ctx)
    assert report.ok
    with demo_ctx.db.read() as conn:
        actions = [entry.action for entry in audit_store.entries(conn)]
    assert actions.count("token.revoke") == 1
