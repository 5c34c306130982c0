"""The `flowdesk` command: serve, migrate, worker, create-admin, app import/export, org,
calendar, audit."""

from __future__ import annotations

import getpass
import logging
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click
from pydantic import ValidationError

from flowdesk.kernel.errors import DefinitionInvalid, FlowdeskError
from flowdesk.kernel.heap import freeze_long_lived
from flowdesk.settings import Settings

if TYPE_CHECKING:
    from flowdesk.engines.audit import Checkpoint
    from flowdesk.services.calendar import YearView
    from flowdesk.services.context import ServiceContext

T = TypeVar("T")
WORKER_HEALTHCHECK_SECONDS = 30


def _settings(dev: bool = False, **overrides: object) -> Settings:
    try:
        return Settings(dev=dev or os.environ.get("FLOWDESK_DEV") == "1", **overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        for error in exc.errors():
            # The variable to fix: FLOWDESK_ + the field path joined by "__".
            fields = [str(part) for part in error["loc"]]
            variable = f"FLOWDESK_{'__'.join(fields).upper()}: " if fields else ""
            click.echo(f"configuration error: {variable}{error['msg']}", err=True)
        sys.exit(2)


def _with_secret_key(settings: Settings) -> Settings:
    """Only serving needs the secret key: it refuses to start without one, before it
    touches anything. In --dev a missing key file is created (mode 600) beside the
    database, so `make run` and then plain `flowdesk serve` work on a new checkout."""
    from pydantic import SecretStr

    try:
        key = settings.load_secret_key(create=settings.dev)
    except (ValueError, OSError) as exc:
        click.echo(f"configuration error: {exc}", err=True)
        sys.exit(2)
    return settings.model_copy(update={"secret_key": SecretStr(key)})


def _context(settings: Settings, *, migrates: bool = False) -> ServiceContext:
    """The services' context; unless the command migrates, the schema must be current."""
    from flowdesk.main import context_from
    from flowdesk.services.bootstrap import schema_behind

    ctx = context_from(settings)
    problem = None if migrates else schema_behind(ctx)
    if problem:
        click.echo(f"error: {problem}", err=True)
        sys.exit(1)
    return ctx


@click.group()
@click.version_option(package_name="flowdesk")
def main() -> None:
    """flowdesk: work orders and approvals for financial institutions."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # Alembic announces its plugins and dialect at INFO on every command; the commands
    # say what matters themselves.
    for name in ("alembic.runtime.plugins", "alembic.runtime.migration"):
        logging.getLogger(name).setLevel(logging.WARNING)


@main.command()
@click.option(
    "--dev", is_flag=True, help="Development mode: creates a local secret key file if none."
)
@click.option("--demo", is_flag=True, help="Load the demo bank into an empty database.")
@click.option("--no-worker", is_flag=True, help="Do not run jobs in this process.")
@click.option("--host", default=None, help="Interface to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port (default 8000).")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Server processes on the one port (about one per CPU core).",
)
def serve(
    dev: bool, demo: bool, no_worker: bool, host: str | None, port: int | None, workers: int
) -> None:
    """Migrate the database and serve the web UI and the REST API."""
    import uvicorn

    from flowdesk import logs, serving
    from flowdesk.main import create_app
    from flowdesk.services import demo as demo_data
    from flowdesk.services.bootstrap import migrate_database

    overrides: dict[str, object] = {}
    if no_worker:
        overrides["run_worker"] = False
    settings = _with_secret_key(_settings(dev, **overrides))
    ctx = _context(settings, migrates=True)
    _run(lambda: migrate_database(ctx))
    if demo and demo_data.load(ctx):
        click.echo(f"demo bank loaded; every demo account's password is {demo_data.DEMO_PASSWORD}")
    listen = {
        "host": host or settings.host,
        "port": port or settings.port,
        "log_level": "info",
        # JSON lines with request ids, in every server process (flowdesk.logs).
        "log_config": logs.LOG_CONFIG,
        "proxy_headers": False,
        "loop": serving.LOOP,
        "http": serving.HTTP,
    }
    if workers > 1:
        _serve_processes(settings, ctx, workers, listen)
        return
    app = create_app(settings, ctx, migrate=False)
    freeze_long_lived()  # the app, its routes and caches: never walked by the collector
    uvicorn.run(app, **listen)  # type: ignore[arg-type]


def _serve_processes(
    settings: Settings, ctx: ServiceContext, workers: int, listen: dict[str, object]
) -> None:
    """N uvicorn processes on one port; the one job worker runs here, in the parent."""
    import uvicorn

    from flowdesk import logs, serving
    from flowdesk.worker.runner import BackgroundWorker

    os.environ.update(serving.worker_environment(settings))
    # /metrics adds up every process's counters from files here (ADR 0012).
    os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="flowdesk-metrics-"))
    job_worker = BackgroundWorker(ctx) if settings.run_worker else None
    freeze_long_lived()  # each server process freezes its own heap (serving.worker_app)
    if job_worker is not None:
        logs.configure()  # the job loop logs from here, before any uvicorn process starts
        job_worker.start()
    try:
        # uvicorn restarts a worker that misses its health check (5 s by default): a worker
        # still building its app on a loaded host is not dead, so it gets longer.
        uvicorn.run(
            serving.FACTORY,
            factory=True,
            workers=workers,
            timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
            **listen,  # type: ignore[arg-type]
        )
    finally:
        if job_worker is not None:
            job_worker.stop()


@main.command()
@click.option("--dev", is_flag=True)
def migrate(dev: bool) -> None:
    """Bring the database schema to the newest version."""
    from flowdesk.services.bootstrap import migrate_database

    ctx = _context(_settings(dev), migrates=True)
    _run(lambda: migrate_database(ctx))
    click.echo("database is at the newest schema version")


@main.command()
@click.option("--dev", is_flag=True)
def worker(dev: bool) -> None:
    """Run background jobs until Ctrl-C or SIGTERM (run several on PostgreSQL to scale
    out). Logs one JSON line per event on stderr, as `serve` does."""
    from flowdesk import logs
    from flowdesk.worker.runner import run_until_signalled

    logs.configure()
    ctx = _context(_settings(dev))
    freeze_long_lived()
    run_until_signalled(ctx)


@main.command("create-admin")
@click.argument("username")
@click.option("--dev", is_flag=True)
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def create_admin(username: str, dev: bool, password_stdin: bool) -> None:
    """Create an administrator (or reset an existing administrator's password)."""
    from flowdesk.services import org

    password = sys.stdin.readline().rstrip("\n") if password_stdin else getpass.getpass()
    ctx = _context(_settings(dev))
    _run(lambda: org.ensure_admin(ctx, username=username, password=password))
    click.echo(f"administrator {username} is ready")


@main.command("load-demo")
@click.option("--dev", is_flag=True)
def load_demo(dev: bool) -> None:
    """Load the demo bank and its apps (loan, contract review, reimbursement) into an
    empty database."""
    from flowdesk.services import demo as demo_data

    loaded = _run(lambda: demo_data.load(_context(_settings(dev))))
    click.echo("demo bank loaded" if loaded else "the database already has users; nothing loaded")


@main.group()
def app() -> None:
    """Import and export apps as YAML, and their processes as BPMN 2.0."""


BPMN_SUFFIXES = (".bpmn", ".bpmn2", ".xml")


def _is_bpmn(path: Path, data: bytes) -> bool:
    """By the name (.bpmn, .bpmn20.xml, .xml), else by content: XML starts with '<'."""
    if path.suffix.lower() in BPMN_SUFFIXES:
        return True
    if path.suffix.lower() in (".yaml", ".yml"):
        return False
    return data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<")


@app.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--app",
    "app_key",
    metavar="KEY",
    help="For a BPMN file: the app whose process it replaces (the form stays).",
)
@click.option(
    "--process",
    "process_id",
    metavar="ID",
    help="For a BPMN file with several processes: the id of the one to import.",
)
@click.option("--dev", is_flag=True)
def app_import(path: Path, app_key: str | None, process_id: str | None, dev: bool) -> None:
    """Validate FILE and publish it as a new version of its app.

    FILE.yaml is a whole app. FILE.bpmn (BPMN 2.0 XML) replaces the process of the app
    named by --app and publishes a new version; warnings list what was read but not used.
    Every problem is printed, one per line, with its path.
    """
    from flowdesk.services import apps

    data = path.read_bytes()
    bpmn = _is_bpmn(path, data)
    if bpmn and not app_key:
        click.echo("error: a BPMN file holds only a process; name its app with --app KEY", err=True)
        sys.exit(2)
    if not bpmn and (app_key or process_id):
        click.echo(
            "error: --app and --process are for BPMN files; a YAML file names its app (key:)",
            err=True,
        )
        sys.exit(2)
    ctx = _context(_settings(dev))
    if bpmn:
        key = app_key or ""
        imported = _run(lambda: apps.publish_bpmn(ctx, data, key, process_id=process_id))
        for warning in imported.warnings:
            click.echo(f"warning: {warning.path}: {warning.message} [{warning.code}]", err=True)
        result = imported.published
    else:
        result = _run(lambda: apps.publish_yaml(ctx, path.read_text(encoding="utf-8")))
    if result.changed:
        click.echo(f"published {result.key} version {result.version}")
    else:
        click.echo(f"{result.key} version {result.version} is identical; nothing published")


@app.command("import-rows")
@click.argument("key")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--as",
    "username",
    required=True,
    metavar="USER",
    help="The username every ticket is filed by (its applicant).",
)
@click.option("--valid-rows", is_flag=True, help="File the good rows, report the others.")
@click.option("--dry-run", is_flag=True, help="Check every row; file nothing.")
@click.option(
    "--encoding",
    type=click.Choice(["auto", "utf-8", "gb18030"]),
    default="auto",
    help="Of a CSV file (auto: UTF-8 if valid, else GB18030).",
)
@click.option("--dev", is_flag=True)
def app_import_rows(
    key: str,
    path: Path,
    username: str,
    valid_rows: bool,
    dry_run: bool,
    encoding: str,
    dev: bool,
) -> None:
    """File a ticket of app KEY (a record of a record app) for each row of FILE (.xlsx or
    .csv; the first row names the fields). All or nothing (exit 1 with every bad row's
    errors) unless --valid-rows, which files the good rows and prints the others' errors."""
    from flowdesk.services import ticket_import

    if path.stat().st_size > ticket_import.MAX_FILE_BYTES:
        click.echo(f"error: {path} is larger than {ticket_import.MAX_FILE_BYTES} bytes", err=True)
        sys.exit(1)
    ctx = _context(_settings(dev))
    try:
        actor = ticket_import.importing_user(ctx, username)
        freeze_long_lived()  # a third of a large import's CPU went to walking this heap
        report = ticket_import.import_rows(
            ctx,
            actor,
            key,
            filename=path.name,
            content=path.read_bytes(),
            mode="valid_rows" if valid_rows else "all",
            dry_run=dry_run,
            encoding=encoding,  # type: ignore[arg-type]
        )
    except FlowdeskError as exc:
        click.echo(f"error: {exc.message}", err=True)
        for error in exc.errors:
            click.echo(f"  {error.path}: {error.message} [{error.code}]", err=True)
        sys.exit(1)
    for error in report.errors:
        click.echo(f"  {error.path}: {error.message} [{error.code}]", err=True)
    click.echo(f"{report.rows} rows: {report.valid} valid, {report.invalid} with errors")
    made = "records created" if report.records else "tickets filed"
    click.echo("dry run: nothing was filed" if dry_run else f"{report.created} {made}")
    if report.invalid and dry_run:
        sys.exit(1)  # a check that found bad rows; with --valid-rows the good ones were filed


@app.command("export")
@click.argument("key")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["yaml", "bpmn"]),
    default="yaml",
    show_default=True,
    help="yaml: the whole app; bpmn: its process as BPMN 2.0 XML with a diagram.",
)
@click.option("--dev", is_flag=True)
def app_export(key: str, output_format: str, dev: bool) -> None:
    """Print the current version of app KEY as YAML (or its process as BPMN 2.0)."""
    from flowdesk.services import apps

    ctx = _context(_settings(dev))
    export = apps.export_bpmn if output_format == "bpmn" else apps.export_yaml
    click.echo(_run(lambda: export(ctx, key)), nl=False)


@main.group()
def org() -> None:
    """The org chart: departments, people and roles."""


@org.command("import")
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--dry-run", is_flag=True, help="Check and count the changes; write nothing.")
@click.option(
    "--encoding",
    type=click.Choice(["auto", "utf-8", "gb18030"]),
    default="auto",
    help="Of CSV files (auto: UTF-8 if valid, else GB18030).",
)
@click.option("--dev", is_flag=True)
def org_import(files: tuple[Path, ...], dry_run: bool, encoding: str, dev: bool) -> None:
    """Import an org-chart workbook (.xlsx) or CSV tables: all rows or none; re-running
    the same file changes nothing. Exit 1 with every bad cell named."""
    from flowdesk.services import org as org_service
    from flowdesk.services.org_import import MAX_FILE_BYTES

    ctx = _context(_settings(dev))
    for path in files:
        if path.stat().st_size > MAX_FILE_BYTES:
            click.echo(f"error: {path} is larger than {MAX_FILE_BYTES} bytes", err=True)
            sys.exit(1)
    loaded = [(path.name, path.read_bytes()) for path in files]
    try:
        report = org_service.import_org(
            ctx,
            loaded,
            actor=None,
            dry_run=dry_run,
            encoding=encoding,  # type: ignore[arg-type]
        )
    except FlowdeskError as exc:
        click.echo(f"error: {exc.message}", err=True)
        for error in exc.errors:
            click.echo(f"  {error.path}: {error.message}", err=True)
        sys.exit(1)
    for kind, counts in report.counts.items():
        click.echo(
            f"{kind}s: {counts['created']} new, {counts['updated']} changed,"
            f" {counts['unchanged']} unchanged"
        )
    click.echo("dry run: nothing was written" if dry_run else f"{report.changed} changes written")


@main.group()
def calendar() -> None:
    """The business calendar: days marked working or not, years covered."""


@calendar.command("list")
@click.option("--year", type=int, help="Only the days of this year.")
@click.option("--dev", is_flag=True)
def calendar_list(year: int | None, dev: bool) -> None:
    """Print the days an administrator entered, in date order."""
    from flowdesk.services import calendar as calendar_service

    ctx = _context(_settings(dev))
    days = _run(lambda: calendar_service.list_days(ctx, None, year=year))
    for day in days:
        kind = "working" if day.working else "day off"
        hours = f" {','.join(day.hours)}" if day.hours else ""
        note = f"  {day.note}" if day.note else ""
        click.echo(f"{day.day.isoformat()} {day.day:%a} {kind}{hours}{note}")
    if not days:
        click.echo("no calendar days entered" + (f" for {year}" if year else ""))


@calendar.command("set")
@click.argument("day", metavar="DATE")
@click.option("--working/--day-off", required=True, help="A working day, or a day off.")
@click.option(
    "--hours", multiple=True, help="HH:MM-HH:MM, repeated or comma-separated; default: usual hours."
)
@click.option("--note", default="", help="Why, e.g. 春节 or 调休.")
@click.option("--dev", is_flag=True)
def calendar_set(day: str, working: bool, hours: tuple[str, ...], note: str, dev: bool) -> None:
    """Mark DATE (YYYY-MM-DD) working or a day off; wins over the holiday library."""
    from flowdesk.services import calendar as calendar_service

    ctx = _context(_settings(dev))
    saved = _run(
        lambda: calendar_service.set_day(
            ctx, None, day, working=working, hours=_intervals(hours) or None, note=note
        )
    )
    kind = "a working day" if saved.working else "a day off"
    click.echo(
        f"{saved.day.isoformat()} is {kind}"
        + (f" ({', '.join(saved.hours)})" if saved.hours else "")
    )


@calendar.command("remove")
@click.argument("day", metavar="DATE")
@click.option("--dev", is_flag=True)
def calendar_remove(day: str, dev: bool) -> None:
    """Forget what was entered for DATE: the holiday library decides again."""
    from flowdesk.services import calendar as calendar_service

    ctx = _context(_settings(dev))
    _run(lambda: calendar_service.remove_day(ctx, None, day))
    click.echo(f"{day} removed")


@calendar.command("cover")
@click.argument("year", type=int)
@click.option("--note", default="", help="E.g. the State Council notice it follows.")
@click.option("--dev", is_flag=True)
def calendar_cover(year: int, note: str, dev: bool) -> None:
    """Declare YEAR's public holidays and make-up days entered in full (its other
    dates are then plain weekdays); for a year the holiday library does not know."""
    from flowdesk.services import calendar as calendar_service

    ctx = _context(_settings(dev))
    _echo_year(_run(lambda: calendar_service.cover_year(ctx, None, year, note=note)))


@calendar.command("uncover")
@click.argument("year", type=int)
@click.option("--dev", is_flag=True)
def calendar_uncover(year: int, dev: bool) -> None:
    """Withdraw `cover YEAR`."""
    from flowdesk.services import calendar as calendar_service

    ctx = _context(_settings(dev))
    _echo_year(_run(lambda: calendar_service.uncover_year(ctx, None, year)))


@calendar.command("check")
@click.argument("year", type=int)
@click.option("--dev", is_flag=True)
def calendar_check(year: int, dev: bool) -> None:
    """Say whether YEAR is covered; exit 1 when it is not (deadlines reaching into it
    would fail), so a cron job can warn before the year begins."""
    from flowdesk.services import calendar as calendar_service

    ctx = _context(_settings(dev))
    status = _run(lambda: calendar_service.year_status(ctx, None, year))
    _echo_year(status)
    if status.coverage is None:
        sys.exit(1)


def _intervals(given: tuple[str, ...]) -> list[str]:
    """`--hours 09:00-12:00 --hours 13:30-17:30` or `--hours 09:00-12:00,13:30-17:30`."""
    return [part.strip() for value in given for part in value.split(",") if part.strip()]


def _echo_year(status: YearView) -> None:
    entered = f"{status.days} day(s) entered"
    if status.coverage == "library":
        click.echo(
            f"{status.year} is covered by the holiday library: {status.working_days} working"
            f" days; {entered}"
        )
    elif status.coverage == "overrides":
        click.echo(
            f"{status.year} is covered by the administrators' days: {status.working_days}"
            f" working days; {entered}"
        )
    else:
        click.echo(
            f"{status.year} is NOT covered: the holiday library does not know it; {entered}."
            f" Enter its public holidays and make-up days with `flowdesk calendar set`, then"
            f" run `flowdesk calendar cover {status.year}`"
        )


@main.group()
def audit() -> None:
    """The tamper-evident audit log."""


@audit.command("verify")
@click.option("--dev", is_flag=True)
@click.option(
    "--checkpoints",
    "checkpoints_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Also hold the chain against these signed checkpoints (one JSON line each).",
)
@click.option(
    "--public-key",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The public key the checkpoints were signed with (from `audit keygen`).",
)
def audit_verify(dev: bool, checkpoints_file: Path | None, public_key: Path | None) -> None:
    """Recompute the hash chain; exit 1 and name the first bad entry if it is broken."""
    from flowdesk.engines.audit import CheckpointError
    from flowdesk.services import audit as audit_service

    if (checkpoints_file is None) != (public_key is None):
        raise click.UsageError("--checkpoints and --public-key go together")
    try:
        signed = _read_checkpoints(checkpoints_file) if checkpoints_file else []
        report = audit_service.verify(
            _context(_settings(dev)),
            checkpoints=signed,
            public_key_pem=public_key.read_bytes() if public_key else None,
        )
    except CheckpointError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if report.ok:
        pinned = f", matching {report.checkpoints} signed checkpoints" if signed else ""
        click.echo(f"audit chain OK: {report.entries} entries, head at {report.head_seq}{pinned}")
        return
    click.echo(
        f"audit chain BROKEN at entry {report.first_bad_seq}: {report.reason} "
        f"({report.entries} entries read, head at {report.head_seq})",
        err=True,
    )
    sys.exit(1)


@audit.command("keygen")
@click.argument("private_key", type=click.Path(dir_okay=False, path_type=Path))
def audit_keygen(private_key: Path) -> None:
    """Create an Ed25519 key pair for signing checkpoints: PRIVATE_KEY and PRIVATE_KEY.pub."""
    from flowdesk.engines.audit import checkpoint

    public_key = private_key.with_name(private_key.name + ".pub")
    for path in (private_key, public_key):
        if path.exists():
            raise click.UsageError(f"{path} exists; not overwriting a key")
    pem = checkpoint.new_private_key_pem()
    # Created readable by its owner only, never world-readable even for a moment.
    descriptor = os.open(private_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(pem)
    public_pem = checkpoint.public_key_pem(pem)
    public_key.write_bytes(public_pem)
    click.echo(
        f"key {checkpoint.key_id(public_pem)}: private {private_key}, public {public_key}\n"
        "Keep the private key away from the database's administrators; give auditors the"
        " public key and the checkpoints."
    )


@audit.command("checkpoint")
@click.option("--dev", is_flag=True)
@click.option(
    "--private-key",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The signing key from `audit keygen`.",
)
@click.option(
    "--append",
    "append_to",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Append the checkpoint to this file instead of printing it.",
)
def audit_checkpoint(dev: bool, private_key: Path, append_to: Path | None) -> None:
    """Verify the chain and sign its head: one JSON line to keep outside the database."""
    from flowdesk.engines.audit import CheckpointError
    from flowdesk.services import audit as audit_service

    ctx = _context(_settings(dev))
    try:
        signed = _run(lambda: audit_service.sign_checkpoint(ctx, private_key.read_bytes()))
    except CheckpointError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)
    if append_to is None:
        click.echo(signed.to_json())
        return
    with append_to.open("a", encoding="utf-8") as out:
        out.write(signed.to_json() + "\n")
    click.echo(f"checkpoint at entry {signed.seq} appended to {append_to}")


def _read_checkpoints(path: Path) -> list[Checkpoint]:
    from flowdesk.engines.audit import CheckpointError, checkpoint

    found = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip():
            try:
                found.append(checkpoint.parse(line))
            except CheckpointError as exc:
                raise CheckpointError(f"{path} line {number}: {exc}") from exc
    return found


def _run(action: Callable[[], T]) -> T:
    """The action's result; an expected failure is printed (each problem of a definition
    on its own line, with its path and code) and exits 1."""
    try:
        return action()
    except FlowdeskError as exc:
        if isinstance(exc, DefinitionInvalid) and exc.errors:
            click.echo(f"error: {exc.message}; {len(exc.errors)} problem(s):", err=True)
            for error in exc.errors:
                click.echo(f"  {error.path}: {error.message} [{error.code}]", err=True)
        else:
            click.echo(f"error: {exc}", err=True)
        sys.exit(1)
