"""Signed checkpoints: only the key's holder can make one, and any change shows."""

from __future__ import annotations

import dataclasses
import json

import pytest

from flowdesk.engines.audit import CheckpointError, checkpoint

CHAIN_HASH = "ab" * 32


@pytest.fixture(scope="module")
def key() -> bytes:
    return checkpoint.new_private_key_pem()


def _signed(key: bytes) -> checkpoint.Checkpoint:
    return checkpoint.sign(key, seq=42, chain_hash=CHAIN_HASH, at="2026-11-28T09:00:00+00:00")


def test_a_checkpoint_round_trips_through_its_json_line_and_verifies(key: bytes) -> None:
    signed = _signed(key)
    line = signed.to_json()
    assert "\n" not in line
    assert checkpoint.parse(line) == signed
    checkpoint.check(checkpoint.parse(line), checkpoint.public_key_pem(key))
    assert signed.key_id == checkpoint.key_id(checkpoint.public_key_pem(key))


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 41},
        {"hash": "cd" * 32},
        {"at": "2026-11-29T09:00:00+00:00"},
    ],
)
def test_changing_any_signed_field_breaks_the_signature(
    key: bytes, change: dict[str, object]
) -> None:
    forged = dataclasses.replace(_signed(key), **change)  # type: ignore[arg-type]
    with pytest.raises(CheckpointError, match="signature does not match"):
        checkpoint.check(forged, checkpoint.public_key_pem(key))


def test_another_key_is_named_as_such(key: bytes) -> None:
    other = checkpoint.public_key_pem(checkpoint.new_private_key_pem())
    with pytest.raises(CheckpointError, match="not by this public key"):
        checkpoint.check(_signed(key), other)
    relabelled = dataclasses.replace(_signed(key), key_id=checkpoint.key_id(other))
    with pytest.raises(CheckpointError, match="signature does not match"):
        checkpoint.check(relabelled, other)


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("not json", "not a JSON checkpoint"),
        ('{"format": "other"}', "format"),
        ("[1, 2]", "format"),
        ('{"format": "flowdesk-audit-checkpoint/1", "seq": true}', "'seq'"),
        ('{"format": "flowdesk-audit-checkpoint/1", "seq": -1}', "'seq'"),
        ('{"format": "flowdesk-audit-checkpoint/1", "seq": 1, "hash": "AB"}', "'hash'"),
        (
            json.dumps({"format": checkpoint.FORMAT, "seq": 1, "hash": CHAIN_HASH, "at": 5}),
            "'at', 'key_id' and 'signature'",
        ),
    ],
)
def test_malformed_lines_are_refused_with_the_field_named(line: str, message: str) -> None:
    with pytest.raises(CheckpointError, match=message):
        checkpoint.parse(line)


def test_a_signature_that_is_not_base64_is_refused(key: bytes) -> None:
    broken = dataclasses.replace(_signed(key), signature="not base64!")
    with pytest.raises(CheckpointError, match="signature does not match"):
        checkpoint.check(broken, checkpoint.public_key_pem(key))


def test_keys_that_are_not_ed25519_pem_are_refused() -> None:
    with pytest.raises(CheckpointError, match="PEM private key"):
        checkpoint.sign(b"junk", seq=1, chain_hash=CHAIN_HASH, at="x")
    with pytest.raises(CheckpointError, match="PEM public key"):
        checkpoint.key_id(b"junk")
