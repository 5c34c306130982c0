"""The API describes itself: an OpenAPI document and interactive docs under /api/v1."""

from __future__ import annotations

import json
import re
from typing import Any

from api_client import API
from fastapi.testclient import TestClient

from flowdesk.services import list_query

ROUTES = {
    ("post", "/auth/token"),
    ("delete", "/auth/token"),
    ("get", "/me"),
    ("get", "/apps"),
    ("get", "/apps/{key}"),
    ("post", "/apps/{key}/tickets"),
    ("get", "/tickets"),
    ("get", "/tickets/export"),
    ("get", "/tickets/{ticket_id}"),
    ("get", "/tasks"),
    ("get", "/tasks/{task_id}"),
    ("get", "/"),
    ("post", "/tasks/{task_id}/approve"),
    ("post", "/tasks/{task_id}/reject"),
    ("get", "/tasks/{task_id}/return-targets"),
    ("post", "/tasks/{task_id}/return"),
    ("post", "/tasks/{task_id}/add-signers"),
    ("post", "/tasks/{task_id}/remove-signer"),
    ("post", "/tasks/{task_id}/transfer"),
    ("post", "/tasks/{task_id}/delegate"),
    ("post", "/tasks/{task_id}/resolve"),
    ("get", "/delegations"),
    ("post", "/delegations"),
    ("post", "/tickets/{ticket_id}/resubmit"),
    ("post", "/tickets/{ticket_id}/withdraw"),
    ("post", "/tickets/{ticket_id}/unmask"),
    ("post", "/tickets/{ticket_id}/cancel"),
    ("post", "/tickets/{ticket_id}/revoke"),
    ("post", "/tasks/{task_id}/retract"),
    ("post", "/tickets/{ticket_id}/comments"),
    ("post", "/tickets/{ticket_id}/copies"),
    ("get", "/copies"),
    ("get", "/notifications"),
    ("post", "/notifications/read"),
    ("post", "/messages"),
    ("get", "/attachments/{attachment_id}"),
    # a record app's records (ADR 0038)
    ("get", "/apps/{key}/records"),
    ("post", "/apps/{key}/records"),
    ("patch", "/records/{record_id}"),
    ("delete", "/records/{record_id}"),
    ("get", "/apps/{key}/links/{field}"),
    ("get", "/apps/{key}/records/export"),
}
# POSTs whose body is a file (multipart/form-data), checked in test_uploads_are_multipart.
UPLOAD_ROUTES = {("post", "/attachments")}
# POSTs whose whole meaning is the path: no body to send (and none to refuse).
BODYLESS_ROUTES = {
    ("post", "/tickets/{ticket_id}/urge"),
    ("post", "/copies/{ticket_id}/read"),
    ("post", "/delegations/{delegation_id}/revoke"),
}
# POSTs whose body is a file (an XLSX or CSV), not JSON.
FILE_ROUTES = {("post", "/apps/{key}/imports")}
# The admin area (tests/api/test_api_admin.py): some POSTs take no body, or a file.
ADMIN_ROUTES = {
    ("get", "/admin/users"),
    ("post", "/admin/users"),
    ("get", "/admin/users/{username}"),
    ("patch", "/admin/users/{username}"),
    ("post", "/admin/users/{username}/deactivate"),
    ("post", "/admin/users/{username}/reactivate"),
    ("post", "/admin/users/{username}/hand-over"),
    ("get", "/admin/departments"),
    ("post", "/admin/departments"),
    ("patch", "/admin/departments/{code}"),
    ("get", "/admin/roles"),
    ("post", "/admin/roles"),
    ("patch", "/admin/roles/{key}"),
    ("get", "/admin/roles/{key}/members"),
    ("post", "/admin/org/import"),
    ("get", "/admin/org/template.xlsx"),
    ("get", "/admin/apps"),
    ("get", "/admin/apps/{key}/versions"),
    ("post", "/admin/apps"),
    ("get", "/admin/apps/{key}/export"),
    ("put", "/admin/apps/{key}/process"),
    ("put", "/admin/apps/{key}/form"),
    ("get", "/admin/form-palette"),
    ("get", "/admin/calendar/days"),
    ("get", "/admin/calendar/days/{day}"),
    ("put", "/admin/calendar/days/{day}"),
    ("delete", "/admin/calendar/days/{day}"),
    ("get", "/admin/calendar/years/{year}"),
    ("put", "/admin/calendar/years/{year}"),
    ("delete", "/admin/calendar/years/{year}"),
    ("post", "/admin/tickets/{ticket_id}/jump"),
    ("post", "/admin/tasks/{task_id}/reassign"),
    ("post", "/admin/tasks/{task_id}/remove-approver"),
    ("post", "/admin/tickets/{ticket_id}/cancel"),
    ("post", "/admin/tickets/migrate"),
    ("get", "/admin/jobs"),
    ("post", "/admin/jobs/{job_id}/retry"),
}


# Generated clients name their functions after these ids (listTasks is list_tasks() in
# Python, listTasks() in TypeScript): changing one breaks integrators' code.
OPERATION_IDS = {
    ("get", "/"): "getIndex",
    ("post", "/auth/token"): "issueToken",
    ("delete", "/auth/token"): "revokeToken",
    ("get", "/me"): "getMe",
    ("get", "/apps"): "listApps",
    ("get", "/apps/{key}"): "getApp",
    ("post", "/apps/{key}/tickets"): "submitTicket",
    ("post", "/apps/{key}/imports"): "importTickets",
    ("get", "/apps/{key}/records"): "listRecords",
    ("post", "/apps/{key}/records"): "createRecord",
    ("patch", "/records/{record_id}"): "editRecord",
    ("delete", "/records/{record_id}"): "deleteRecord",
    ("get", "/apps/{key}/links/{field}"): "linkOptions",
    ("get", "/apps/{key}/records/export"): "exportRecords",
    ("get", "/tickets"): "listTickets",
    ("get", "/tickets/export"): "exportTickets",
    ("get", "/tickets/{ticket_id}"): "getTicket",
    ("get", "/tasks"): "listTasks",
    ("get", "/tasks/{task_id}"): "getTask",
    ("post", "/tasks/{task_id}/approve"): "approveTask",
    ("post", "/attachments"): "uploadAttachment",
    ("get", "/attachments/{attachment_id}"): "downloadAttachment",
    ("post", "/tasks/{task_id}/reject"): "rejectTask",
    ("get", "/tasks/{task_id}/return-targets"): "listReturnTargets",
    ("post", "/tasks/{task_id}/return"): "returnTask",
    ("post", "/tasks/{task_id}/add-signers"): "addSigners",
    ("post", "/tasks/{task_id}/remove-signer"): "removeSigner",
    ("post", "/tasks/{task_id}/transfer"): "transferTask",
    ("post", "/tasks/{task_id}/delegate"): "delegateTask",
    ("post", "/tasks/{task_id}/resolve"): "resolveTask",
    ("get", "/delegations"): "listDelegations",
    ("post", "/delegations"): "createDelegation",
    ("post", "/delegations/{delegation_id}/revoke"): "revokeDelegation",
    ("post", "/tickets/{ticket_id}/resubmit"): "resubmitTicket",
    ("post", "/tickets/{ticket_id}/withdraw"): "withdrawTicket",
    ("post", "/tickets/{ticket_id}/unmask"): "unmaskTicket",
    ("post", "/tickets/{ticket_id}/cancel"): "cancelTicket",
    ("post", "/tickets/{ticket_id}/revoke"): "revokeTicket",
    ("post", "/tasks/{task_id}/retract"): "retractApproval",
    ("post", "/tickets/{ticket_id}/urge"): "urgeTicket",
    ("post", "/tickets/{ticket_id}/comments"): "commentOnTicket",
    ("post", "/tickets/{ticket_id}/copies"): "copyTicket",
    ("get", "/copies"): "listCopies",
    ("post", "/copies/{ticket_id}/read"): "markCopyRead",
    ("get", "/notifications"): "listNotifications",
    ("post", "/notifications/read"): "markNotificationsRead",
    ("post", "/messages"): "sendMessage",
    ("get", "/admin/users"): "listUsers",
    ("post", "/admin/users"): "createUser",
    ("get", "/admin/users/{username}"): "getUser",
    ("patch", "/admin/users/{username}"): "updateUser",
    ("post", "/admin/users/{username}/deactivate"): "deactivateUser",
    ("post", "/admin/users/{username}/reactivate"): "reactivateUser",
    ("post", "/admin/users/{username}/hand-over"): "handOverTasks",
    ("get", "/admin/departments"): "listDepartments",
    ("post", "/admin/departments"): "createDepartment",
    ("patch", "/admin/departments/{code}"): "updateDepartment",
    ("get", "/admin/roles"): "listRoles",
    ("post", "/admin/roles"): "createRole",
    ("patch", "/admin/roles/{key}"): "updateRole",
    ("get", "/admin/roles/{key}/members"): "listRoleMembers",
    ("post", "/admin/org/import"): "importOrg",
    ("get", "/admin/org/template.xlsx"): "getOrgTemplate",
    ("get", "/admin/apps"): "listAdminApps",
    ("get", "/admin/apps/{key}/versions"): "listAppVersions",
    ("post", "/admin/apps"): "publishApp",
    ("get", "/admin/apps/{key}/export"): "exportApp",
    ("put", "/admin/apps/{key}/process"): "importAppBpmn",
    ("put", "/admin/apps/{key}/form"): "replaceAppForm",
    ("get", "/admin/form-palette"): "getFormPalette",
    ("get", "/admin/calendar/days"): "listCalendarDays",
    ("get", "/admin/calendar/days/{day}"): "getCalendarDay",
    ("put", "/admin/calendar/days/{day}"): "setCalendarDay",
    ("delete", "/admin/calendar/days/{day}"): "removeCalendarDay",
    ("get", "/admin/calendar/years/{year}"): "getCalendarYear",
    ("put", "/admin/calendar/years/{year}"): "coverCalendarYear",
    ("delete", "/admin/calendar/years/{year}"): "uncoverCalendarYear",
    ("post", "/admin/tickets/{ticket_id}/jump"): "jumpTicket",
    ("post", "/admin/tasks/{task_id}/reassign"): "reassignTask",
    ("post", "/admin/tasks/{task_id}/remove-approver"): "removeApprover",
    ("post", "/admin/tickets/{ticket_id}/cancel"): "adminCancelTicket",
    ("post", "/admin/tickets/migrate"): "migrateTickets",
    ("get", "/admin/jobs"): "listJobs",
    ("post", "/admin/jobs/{job_id}/retry"): "retryJob",
}
CAMEL_CASE = re.compile(r"[a-z]+(?:[A-Z][a-z]+)*")


def test_every_operation_has_a_short_stable_unique_id(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    ids = {
        (method, path): operation["operationId"]
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    }
    assert ids == OPERATION_IDS
    assert len(set(ids.values())) == len(ids)  # unique across the document
    for operation_id in ids.values():
        assert CAMEL_CASE.fullmatch(operation_id), operation_id
        assert len(operation_id) <= 24, operation_id


def test_every_list_parameter_is_documented(client: TestClient) -> None:
    """The lists' vocabulary (services/list_query.py) is declared once and appears, each
    parameter with its description, on both lists."""
    spec = client.get(f"{API}/openapi.json").json()
    for path, own in (("/tickets", {"scope", "mine"}), ("/tasks", {"state"})):
        parameters = {p["name"]: p for p in spec["paths"][path]["get"]["parameters"]}
        assert set(parameters) == set(list_query.PARAMS) | own, path
        for name, parameter in parameters.items():
            assert parameter["in"] == "query", (path, name)
            assert len(parameter.get("description", "")) > 10, (path, name)


def test_the_openapi_document_lists_every_route(client: TestClient) -> None:
    response = client.get(f"{API}/openapi.json")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    spec = json.loads(response.text)
    assert spec["openapi"].startswith("3.")
    assert spec["info"]["title"] == "flowdesk API"
    assert spec["servers"] == [{"url": API}]  # paths are relative to the mount point
    routes = {
        (method, path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }
    assert routes == ROUTES | BODYLESS_ROUTES | FILE_ROUTES | ADMIN_ROUTES | UPLOAD_ROUTES
    for method, path in ROUTES:
        operation = spec["paths"][path][method]
        assert operation.get("responses"), (method, path)
        if method == "post":
            body = _resolved(
                spec, operation["requestBody"]["content"]["application/json"]["schema"]
            )
            assert body["type"] == "object"
            assert body.get("additionalProperties") is False  # unknown fields are refused


def test_every_schema_reference_resolves(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    schemas = spec.get("components", {}).get("schemas", {})
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(spec["paths"])
    walk(schemas)
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.rsplit("/", 1)[1] in schemas, ref


def test_the_interactive_docs_are_served(client: TestClient) -> None:
    response = client.get(f"{API}/docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert f"{API}/openapi.json" in response.text


def test_the_docs_page_needs_no_internet(client: TestClient) -> None:
    """Bank networks are closed: every script and style comes from flowdesk itself."""
    page = client.get(f"{API}/docs").text
    assets = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
    assert assets
    for asset in assets:
        assert asset.startswith("/static/"), asset
        assert client.get(asset).status_code == 200, asset


def test_the_bearer_scheme_is_declared_and_asked_for(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme", "").lower() == "bearer" for s in schemes.values())
    refused = client.get(f"{API}/me")
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"] == "Bearer"


def _resolved(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    if "$ref" not in schema:
        return schema
    resolved: dict[str, Any] = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return resolved


def _problem_statuses(operation: dict[str, Any]) -> set[int]:
    declared = set()
    for status, response in operation["responses"].items():
        if status.startswith(("4", "5")):
            assert set(response["content"]) == {"application/problem+json"}, (status, response)
            schema = response["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}
            declared.add(int(status))
    return declared


def test_every_operation_declares_the_problems_it_can_answer(client: TestClient) -> None:
    """Each error status is declared as application/problem+json with the Problem schema,
    for every operation, those added later included (a generic rule, api/openapi_errors)."""
    spec = client.get(f"{API}/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # FastAPI's shape: never sent
    assert "ValidationError" not in schemas
    problem = schemas["Problem"]
    assert set(problem["required"]) == {"type", "title", "status", "code"}
    assert {"errors", "request_id"} <= set(problem["properties"])
    error = schemas["ProblemError"]
    assert set(error["required"]) == {"path", "code", "message"}
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            declared = _problem_statuses(operation)
            assert {400, 500} <= declared, (method, path)
            if operation.get("security"):
                assert {401, 403} <= declared, (method, path)
            if "{" in path:
                assert {404, 422} <= declared, (method, path)
            if "requestBody" in operation:
                assert {413, 415, 422} <= declared, (method, path)
            if method != "get":
                assert 409 in declared, (method, path)
    token = _problem_statuses(spec["paths"]["/auth/token"]["post"])
    assert {401, 422, 429, 503} <= token
    assert "422" not in spec["paths"]["/me"]["get"]["responses"]  # nothing there to be invalid


def test_uploads_are_multipart_and_downloads_binary(client: TestClient) -> None:
    spec = client.get(f"{API}/openapi.json").json()
    upload = spec["paths"]["/attachments"]["post"]
    body = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert body["required"] == ["file"] and body["properties"]["file"]["format"] == "binary"
    assert {"201", "413", "415", "422"} <= set(upload["responses"])
    download = spec["paths"]["/attachments/{attachment_id}"]["get"]
    assert {"application/pdf", "image/png"} <= set(download["responses"]["200"]["content"])
    assert "404" in download["responses"]
    for action in (
        "/tasks/{task_id}/approve",
        "/tasks/{task_id}/return",
        "/tickets/{ticket_id}/comments",
    ):
        ref = spec["paths"][action]["post"]["requestBody"]["content"]["application/json"]["schema"]
        schema = spec["components"]["schemas"][ref["$ref"].rsplit("/", 1)[1]]
        assert schema["properties"]["attachments"]["type"] == "array"
    ticket = spec["components"]["schemas"]["TicketOut"]
    assert "attachments" in ticket["properties"]
