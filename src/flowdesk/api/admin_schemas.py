"""Request and response shapes of /api/v1/admin/…: the org chart and apps. Requests
forbid unknown fields; a PATCH changes only the fields it names."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from flowdesk.api.schemas import Strict


def _name() -> str | None:
    return Field(default=None, max_length=200)


class UserFields(Strict):
    name_zh: str | None = _name()
    name_en: str | None = _name()
    department: str | None = Field(default=None, max_length=64)
    manager: str | None = Field(default=None, max_length=64)
    job_level: str | None = Field(default=None, max_length=32)
    email: str | None = Field(default=None, max_length=254)
    mobile: str | None = Field(default=None, max_length=32)
    roles: list[str] | None = Field(default=None, max_length=100)
    password: str | None = Field(default=None, min_length=8, max_length=256)


class UserCreate(UserFields):
    username: str = Field(min_length=1, max_length=64)


class UserUpdate(UserFields):
    is_active: bool | None = None


class UserOut(BaseModel):
    id: str
    username: str
    display_name: str
    name_zh: str | None
    name_en: str | None
    department: str | None
    manager: str | None
    job_level: str | None
    email: str | None
    mobile: str = Field(description="Masked: first 3 and last 4 digits")
    is_active: bool
    is_admin: bool
    roles: list[str]
    created_at: datetime
    updated_at: datetime | None


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None


class DepartmentFields(Strict):
    name_zh: str | None = _name()
    name_en: str | None = _name()
    parent: str | None = Field(default=None, max_length=64)
    head: str | None = Field(default=None, max_length=64)


class DepartmentCreate(DepartmentFields):
    code: str = Field(min_length=1, max_length=64)
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)


class DepartmentOut(BaseModel):
    code: str
    name: dict[str, str]
    parent: str | None
    head: str | None
    depth: int
    members: int


class RoleFields(Strict):
    name_zh: str | None = _name()
    name_en: str | None = _name()


class RoleCreate(Strict):
    key: str = Field(min_length=1, max_length=64)
    name_zh: str = Field(min_length=1, max_length=200)
    name_en: str = Field(min_length=1, max_length=200)


class RoleOut(BaseModel):
    key: str
    name: dict[str, str]
    members: int


class ChangeOut(BaseModel):
    kind: str
    key: str
    action: str
    fields: list[str]


class ImportOut(BaseModel):
    dry_run: bool
    sha256: str
    counts: dict[str, dict[str, int]]
    changes: list[ChangeOut]


class AppVersionOut(BaseModel):
    id: str
    version: int
    sha256: str
    published_at: datetime
    published_by: str | None
    is_current: bool


class AdminAppOut(BaseModel):
    key: str
    name: dict[str, str]
    category: str | None
    version: int


class PublishOut(BaseModel):
    key: str
    version: int
    changed: bool
    dry_run: bool = False


class ImportWarningOut(BaseModel):
    """Something the BPMN file held that flowdesk read but does not use, or mapped from a
    vendor notation; `path` names the element (bpmn[Task_Review])."""

    path: str
    code: str
    message: str


class ProcessImportOut(PublishOut):
    warnings: list[ImportWarningOut]


class PaletteSettingOut(BaseModel):
    """One setting a field type takes, and the input that edits it (ADR 0039)."""

    name: str
    kind: str  # local_text, bool, integer, number, text, choice, field, expression, options,
    # words, columns (choices: the types a column may have), app, linked_field,
    # linked_fields, json
    group: str  # basic, validation, rules
    label: dict[str, str]
    in_column: bool = True  # False: a sub-table's column cannot carry this setting
    choices: list[str] = []


class PaletteKindOut(BaseModel):
    """A field type of the form builder's palette, with its bilingual name."""

    type: str
    label: dict[str, str]
    settings: list[PaletteSettingOut]
