"""The `flowdesk` command as an operator uses it, on a temporary SQLite database."""

from __future__ import annotations

import json
import shutil
import sqlite3
import stat
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from flowdesk.cli import main
from flowdesk.services import auth
from flowdesk.services.bootstrap import build_context


def _runner(database: Path) -> CliRunner:
    return CliRunner(
        env={
            "FLOWDESK_DATABASE_URL": f"sqlite:///{database}",
            "FLOWDESK_DEV": "1",
            "FLOWDESK_SECRET_KEY": None,
        }
    )


def _ok(result: Result) -> str:
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


@pytest.fixture(scope="module")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """`migrate` and `load-demo` run once per module: the demo hashes ~40 real argon2 passwords."""
    database = tmp_path_factory.mktemp("cli-demo") / "flowdesk.db"
    runner = _runner(database)
    outputs = {
        "migrate": _ok(runner.invoke(main, ["migrate"])),
        "load-demo": _ok(runner.invoke(main, ["load-demo"])),
    }
    with sqlite3.connect(database) as conn:  # fold the WAL in, so a file copy is complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
    return database, outputs


@pytest.fixture
def database(tmp_path: Path) -> Path:
    return tmp_path / "flowdesk.db"


@pytest.fixture
def runner(database: Path) -> CliRunner:
    return _runner(database)


@pytest.fixture
def demo_runner(demo_database: tuple[Path, dict[str, str]], database: Path) -> CliRunner:
    shutil.copyfile(demo_database[0], database)
    return _runner(database)


def test_migrate_load_demo_import_export_and_verify(
    demo_database: tuple[Path, dict[str, str]], demo_runner: CliRunner, tmp_path: Path
) -> None:
    outputs = demo_database[1]
    assert "newest schema version" in outputs["migrate"]
    assert "demo bank loaded" in outputs["load-demo"]
    runner = demo_runner
    assert "newest schema version" in _ok(runner.invoke(main, ["migrate"]))  # idempotent
    assert "nothing loaded" in _ok(runner.invoke(main, ["load-demo"]))

    exported = _ok(runner.invoke(main, ["app", "export", "loan"]))
    definition = yaml.safe_load(exported)
    assert definition["key"] == "loan"
    loan = tmp_path / "loan.yaml"
    loan.write_text(exported, encoding="utf-8")
    output = _ok(runner.invoke(main, ["app", "import", str(loan)]))
    assert "loan version 1 is identical; nothing published" in output

    definition["description"]["en"] = "Loans, 2026 edition."
    loan.write_text(yaml.safe_dump(definition, allow_unicode=True), encoding="utf-8")
    assert "published loan version 2" in _ok(runner.invoke(main, ["app", "import", str(loan)]))
    assert "2026 edition" in _ok(runner.invoke(main, ["app", "export", "loan"]))

    report = _ok(runner.invoke(main, ["audit", "verify"]))
    assert report.startswith("audit chain OK")


def test_an_invalid_app_file_is_refused_with_its_path(runner: CliRunner, tmp_path: Path) -> None:
    _ok(runner.invoke(main, ["migrate"]))
    broken = tmp_path / "broken.yaml"
    broken.write_text("key: loan\nkey: again\n", encoding="utf-8")
    result = runner.invoke(main, ["app", "import", str(broken)])
    assert result.exit_code == 1
    assert "duplicate key" in result.output
    assert "line 2" in result.output
    result = runner.invoke(main, ["app", "import", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    result = runner.invoke(main, ["app", "export", "nope"])
    assert result.exit_code == 1
    assert "nope" in result.output


def test_create_admin_reads_the_password_from_stdin(runner: CliRunner, database: Path) -> None:
    _ok(runner.invoke(main, ["migrate"]))
    output = _ok(
        runner.invoke(main, ["create-admin", "root", "--password-stdin"], input="S3cure-pass!\n")
    )
    assert "administrator root is ready" in output
    assert "S3cure-pass!" not in output
    ctx = build_context(f"sqlite:///{database}")
    try:
        actor = auth.authenticate(ctx, username="root", password="S3cure-pass!")
        assert actor.is_admin
        # Running it again resets the password.
        _ok(
            runner.invoke(
                main, ["create-admin", "root", "--password-stdin"], input="N3w-pass-word\n"
            )
        )
        assert auth.authenticate(ctx, username="root", password="N3w-pass-word").is_admin
    finally:
        ctx.db.dispose()

    weak = runner.invoke(main, ["create-admin", "other", "--password-stdin"], input="short\n")
    assert weak.exit_code == 1
    assert "8-256 characters" in weak.output


def test_audit_verify_names_the_tampered_entry(demo_runner: CliRunner, database: Path) -> None:
    runner = demo_runner
    assert "audit chain OK" in _ok(runner.invoke(main, ["audit", "verify"]))

    with sqlite3.connect(database) as conn:
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 5")
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 5")
    conn.close()
    result = runner.invoke(main, ["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN at entry 5" in result.output
    assert "content does not match its hash" in result.output


def _production_env(database: Path) -> dict[str, str | None]:
    return {
        "FLOWDESK_DATABASE_URL": f"sqlite:///{database}",
        "FLOWDESK_DEV": None,
        "FLOWDESK_SECRET_KEY": None,
        "FLOWDESK_SECRET_KEY_FILE": None,
    }


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """`serve` runs up to the point where uvicorn would listen; the apps it would serve."""
    import uvicorn

    apps: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_: apps.append(app))
    return apps


def test_commands_that_sign_nothing_need_no_secret_key(
    demo_database: tuple[Path, dict[str, str]], database: Path
) -> None:
    """Right after `make run`, `flowdesk audit verify` used to refuse without --dev."""
    shutil.copyfile(demo_database[0], database)
    runner = CliRunner(env=_production_env(database))
    assert "newest schema version" in _ok(runner.invoke(main, ["migrate"]))
    assert _ok(runner.invoke(main, ["audit", "verify"])).startswith("audit chain OK")
    assert "key: loan" in _ok(runner.invoke(main, ["app", "export", "loan"]))
    assert not (database.parent / "flowdesk.secret").exists()


def test_serve_without_a_secret_key_refuses_and_names_the_settings(
    database: Path, served: list[Any]
) -> None:
    result = CliRunner(env=_production_env(database)).invoke(main, ["serve"])
    assert result.exit_code == 2
    assert "FLOWDESK_SECRET_KEY " in result.output
    assert "FLOWDESK_SECRET_KEY_FILE" in result.output
    assert str(database.parent / "flowdesk.secret") in result.output
    assert not database.exists()  # refused before touching anything
    assert served == []

    short = {**_production_env(database), "FLOWDESK_SECRET_KEY": "short"}
    result = CliRunner(env=short).invoke(main, ["serve"])
    assert result.exit_code == 2
    assert "at least 16 characters" in result.output

    good = {**_production_env(database), "FLOWDESK_SECRET_KEY": "a-long-random-production-secret"}
    _ok(CliRunner(env=good).invoke(main, ["serve", "--no-worker"]))
    assert len(served) == 1
    assert served[0].state.settings.secret_key.get_secret_value() == good["FLOWDESK_SECRET_KEY"]


def test_serve_dev_creates_a_private_secret_file_once_then_serve_uses_it(
    database: Path, served: list[Any]
) -> None:
    env = _production_env(database)
    secret = database.parent / "flowdesk.secret"
    _ok(CliRunner(env=env).invoke(main, ["serve", "--dev", "--no-worker"]))
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600
    key = secret.read_text().strip()
    assert len(key) >= 32
    _ok(CliRunner(env=env).invoke(main, ["serve", "--dev", "--no-worker"]))
    assert secret.read_text().strip() == key  # created once, never replaced
    _ok(CliRunner(env=env).invoke(main, ["serve", "--no-worker"]))  # production start finds it
    assert [app.state.settings.secret_key.get_secret_value() for app in served] == [key] * 3

    secret.chmod(0o644)  # a key others can read is refused
    result = CliRunner(env=env).invoke(main, ["serve", "--no-worker"])
    assert result.exit_code == 2
    assert "chmod 600" in result.output

    elsewhere = database.parent / "keys" / "prod.secret"
    elsewhere.parent.mkdir()
    elsewhere.write_text("k" * 40)
    elsewhere.chmod(0o600)
    chosen = {**env, "FLOWDESK_SECRET_KEY_FILE": str(elsewhere)}
    _ok(CliRunner(env=chosen).invoke(main, ["serve", "--no-worker"]))
    assert served[-1].state.settings.secret_key.get_secret_value() == "k" * 40


def test_signed_checkpoints_from_keygen_to_verify(
    demo_runner: CliRunner, database: Path, tmp_path: Path
) -> None:
    key = tmp_path / "keys" / "audit.pem"
    key.parent.mkdir()
    assert "key " in _ok(demo_runner.invoke(main, ["audit", "keygen", str(key)]))
    assert key.stat().st_mode & 0o777 == 0o600
    public = key.with_name("audit.pem.pub")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    again = demo_runner.invoke(main, ["audit", "keygen", str(key)])
    assert again.exit_code == 2 and "not overwriting" in again.output

    trail = tmp_path / "checkpoints.jsonl"
    appended = _ok(
        demo_runner.invoke(
            main, ["audit", "checkpoint", "--private-key", str(key), "--append", str(trail)]
        )
    )
    assert f"appended to {trail}" in appended
    printed = _ok(demo_runner.invoke(main, ["audit", "checkpoint", "--private-key", str(key)]))
    assert printed.startswith('{"at":')
    verify = ["audit", "verify", "--checkpoints", str(trail), "--public-key", str(public)]
    assert "matching 1 signed checkpoints" in _ok(demo_runner.invoke(main, verify))

    # An insider rewrites entry 3 and every later hash, and moves the head: only the
    # checkpoint, kept outside the database, still tells.
    with sqlite3.connect(database) as conn:
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3")
    conn.close()
    _rehash_chain_in_place(database)
    assert "audit chain OK" in _ok(demo_runner.invoke(main, ["audit", "verify"]))
    caught = demo_runner.invoke(main, verify)
    assert caught.exit_code == 1
    assert "BROKEN at entry" in caught.output and "signed checkpoint" in caught.output

    trail.write_text(trail.read_text().replace('"seq": ', '"seq": 1'))
    tampered = demo_runner.invoke(main, verify)
    assert tampered.exit_code == 1 and "signature does not match" in tampered.output
    trail.write_text("{broken\n")
    unreadable = demo_runner.invoke(main, verify)
    assert unreadable.exit_code == 1 and "line 1: not a JSON checkpoint" in unreadable.output
    half = demo_runner.invoke(main, ["audit", "verify", "--checkpoints", str(trail)])
    assert half.exit_code == 2 and "go together" in half.output


def _rehash_chain_in_place(database: Path) -> None:
    """Recomputes every hash from the first entry and moves the head, as a forger would."""
    from flowdesk.engines.audit import GENESIS_HASH, entry_hash

    with sqlite3.connect(database) as conn:
        rows = conn.execute(
            "SELECT seq, at, actor, action, target_type, target_id, details FROM audit_log"
            " ORDER BY seq"
        ).fetchall()
        prev = GENESIS_HASH
        for seq, at, actor, action, target_type, target_id, details in rows:
            content = {
                "seq": seq,
                "at": at,
                "actor": actor,
                "action": action,
                "target_type": target_type,
                "target_id": target_id,
                "details": json.loads(details),
            }
            digest = entry_hash(prev, content)
            conn.execute(
                "UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, seq)
            )
            prev = digest
        conn.execute("UPDATE audit_head SET hash = ? WHERE id = 1", (prev,))
    conn.close()


def test_migrate_refuses_to_switch_the_audit_hash_of_a_started_chain(
    demo_runner: CliRunner,
) -> None:
    switched = demo_runner.invoke(main, ["migrate"], env={"FLOWDESK_AUDIT__HASH_ALGORITHM": "sm3"})
    assert switched.exit_code == 1
    assert "already uses sha256" in switched.output
    unknown = demo_runner.invoke(main, ["migrate"], env={"FLOWDESK_AUDIT__HASH_ALGORITHM": "md5"})
    assert unknown.exit_code == 2
    assert "FLOWDESK_AUDIT__HASH_ALGORITHM: Input should be 'sha256' or 'sm3'" in unknown.output
    assert "newest schema version" in _ok(demo_runner.invoke(main, ["migrate"]))


def test_a_new_database_can_start_its_audit_chain_with_sm3(runner: CliRunner) -> None:
    sm3 = {"FLOWDESK_AUDIT__HASH_ALGORITHM": "sm3"}
    _ok(runner.invoke(main, ["migrate"], env=sm3))
    _ok(
        runner.invoke(
            main, ["create-admin", "root", "--password-stdin"], input="S3cure!pass\n", env=sm3
        )
    )
    report = _ok(runner.invoke(main, ["audit", "verify"]))
    assert "audit chain OK: 1 entries" in report


def test_commands_on_a_database_that_is_not_migrated_say_so(
    runner: CliRunner, database: Path
) -> None:
    for command in (["audit", "verify"], ["app", "export", "loan"], ["load-demo"]):
        result = runner.invoke(main, command)
        assert result.exit_code == 1, command
        assert "no flowdesk schema yet: run `flowdesk migrate` first" in result.output
    _ok(runner.invoke(main, ["migrate"]))
    with sqlite3.connect(database) as conn:  # as if this flowdesk were newer than the data
        conn.execute("UPDATE alembic_version SET version_num = '0002'")
    conn.close()
    behind = runner.invoke(main, ["audit", "verify"])
    assert behind.exit_code == 1
    assert "schema is at version 0002" in behind.output
