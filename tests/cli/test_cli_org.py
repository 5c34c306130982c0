"""`flowdesk org import` as an HR sync job runs it, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from flowdesk.cli import main
from flowdesk.services.context import ServiceContext

USERS_CSV = (
    "用户名,中文姓名,英文姓名,部门,直属上级,手机,在职\r\n"
    "hr.one,人一,Ren Yi,risk,lin.tao,13800001111,是\r\n"
)


def _runner(db_url: str) -> CliRunner:
    return CliRunner(
        env={"FLOWDESK_DATABASE_URL": db_url, "FLOWDESK_DEV": "1", "FLOWDESK_SECRET_KEY": None}
    )


def _audit_count(ctx: ServiceContext) -> int:
    with ctx.db.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_log")).scalar_one())


def test_dry_run_then_import_then_rerun_changes_nothing(
    demo_ctx: ServiceContext, db_url: str, tmp_path: Path
) -> None:
    users = tmp_path / "users.csv"
    users.write_bytes(USERS_CSV.encode("gb18030"))  # as Chinese Excel saves it
    runner = _runner(db_url)
    before = _audit_count(demo_ctx)
    preview = runner.invoke(main, ["org", "import", str(users), "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert "users: 1 new, 0 changed, 0 unchanged" in preview.output
    assert "nothing was written" in preview.output
    assert _audit_count(demo_ctx) == before
    done = runner.invoke(main, ["org", "import", str(users)])
    assert done.exit_code == 0, done.output
    assert "1 changes written" in done.output
    assert _audit_count(demo_ctx) == before + 1
    again = runner.invoke(main, ["org", "import", str(users)])
    assert "users: 0 new, 0 changed, 1 unchanged" in again.output
    assert _audit_count(demo_ctx) == before + 1


def test_a_bad_cell_exits_1_naming_it_and_writes_nothing(
    demo_ctx: ServiceContext, db_url: str, tmp_path: Path
) -> None:
    users = tmp_path / "users.csv"
    users.write_text(USERS_CSV + "hr.two,人二,,risk,hr.one,555,是\r\n", encoding="utf-8-sig")
    before = _audit_count(demo_ctx)
    result = _runner(db_url).invoke(main, ["org", "import", str(users)])
    assert result.exit_code == 1
    assert "users.csv!F3" in result.output and "mobile" in result.output
    assert _audit_count(demo_ctx) == before
    with demo_ctx.db.read() as conn:
        assert (
            conn.execute(text("SELECT count(*) FROM users WHERE username = 'hr.one'")).scalar_one()
            == 0
        )
