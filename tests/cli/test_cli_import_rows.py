"""`flowdesk app import-rows KEY FILE --as USER`: tickets from a CSV, all or nothing, on
SQLite and PostgreSQL (ADR 0032)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import text

from flowdesk.cli import main
from flowdesk.services.context import ServiceContext

GOOD = '张三,"120,000.00",12,A,华东,采购设备\r\n'
BAD = "李四,abc,12,A,华东,采购设备\r\n"
HEADER = "申请人姓名,贷款金额,贷款期限（月）,信用评级,区域,贷款用途\r\n"


def _runner(db_url: str) -> CliRunner:
    return CliRunner(
        env={"FLOWDESK_DATABASE_URL": db_url, "FLOWDESK_DEV": "1", "FLOWDESK_SECRET_KEY": None}
    )


def _tickets(ctx: ServiceContext) -> int:
    with ctx.db.read() as conn:
        return int(conn.execute(text("SELECT count(*) FROM tickets")).scalar_one())


def test_all_or_nothing_then_valid_rows(
    demo_ctx: ServiceContext, db_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "loans.csv"
    file.write_bytes((HEADER + GOOD + BAD).encode("gb18030"))
    runner = _runner(db_url)
    before = _tickets(demo_ctx)
    refused = runner.invoke(main, ["app", "import-rows", "loan", str(file), "--as", "zhang.wei"])
    assert refused.exit_code == 1
    assert "rows[3].amount" in refused.output
    assert _tickets(demo_ctx) == before
    done = runner.invoke(
        main, ["app", "import-rows", "loan", str(file), "--as", "zhang.wei", "--valid-rows"]
    )
    assert "1 tickets filed" in done.output
    assert _tickets(demo_ctx) == before + 1
    nobody = runner.invoke(main, ["app", "import-rows", "loan", str(file), "--as", "nobody"])
    assert nobody.exit_code == 1 and "No active user" in nobody.output
