"""The layer rules of ARCHITECTURE.md, checked on every run."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "src" / "flowdesk"


def test_import_contracts_hold() -> None:
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run(
        [str(lint_imports)], capture_output=True, text=True, check=False, cwd=SRC.parents[1]
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_no_eval_or_exec_anywhere() -> None:
    """User-written expressions are parsed, never evaluated as Python."""
    forbidden = re.compile(r"(?<![\w.])(eval|exec|compile)\s*\(")
    offenders = [
        f"{path.relative_to(SRC)}:{number}"
        for path in SRC.rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if forbidden.search(line.split("#")[0])
    ]
    assert offenders == []


def test_engines_and_kernel_do_no_io() -> None:
    io_modules = re.compile(
        r"^\s*(import|from)\s+(sqlalchemy|fastapi|starlette|httpx2?|psycopg|"
        r"socket|requests|urllib\.request|subprocess)\b",
        re.MULTILINE,
    )
    offenders = [
        str(path.relative_to(SRC))
        for folder in ("engines", "kernel")
        for path in (SRC / folder).rglob("*.py")
        if io_modules.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_test_modules_have_unique_names() -> None:
    """The test folders are not packages, so pytest imports each test file by its bare
    name: two files of one name in different folders stop the whole run at collection."""
    tests = Path(__file__).resolve().parents[1]
    names: dict[str, list[str]] = {}
    for path in tests.rglob("test_*.py"):
        names.setdefault(path.name, []).append(str(path.relative_to(tests)))
    assert {name: paths for name, paths in names.items() if len(paths) > 1} == {}
