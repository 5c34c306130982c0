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


def test_rows_become_records_of_a_record_app(
    demo_ctx: ServiceContext, db_url: str, tmp_path: Path
) -> None:
    file = tmp_path / "customers.csv"
    file.write_text("客户名称,客户经理,客户分层\r\n成都锦江贸易有限公司,zhang.wei,中小企业\r\n")
    runner = _runner(db_url)
    before = _tickets(demo_ctx)
    done = runner.invoke(main, ["app", "import-rows", "customers", str(file), "--as", "xie.ting"])
    assert done.exit_code == 0, done.output
    assert "1 records created" in done.output
    assert _tickets(demo_ctx) == before + 1
    refused = runner.invoke(main, ["app", "import-rows", "customers", str(file), "--as", "wu.min"])
    assert refused.exit_code == 1 and "editors" in refused.output
    assert _tickets(demo_ctx) == before + 1
