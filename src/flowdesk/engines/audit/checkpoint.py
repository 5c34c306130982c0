"""Signed checkpoints of the audit chain, kept outside the database (RELIABILITY.md 7).

The chain alone proves that no entry was changed by someone who could not also
recompute every later hash and move the head. Someone with full write access to the
database can. A checkpoint is the chain's (seq, hash) at a moment, signed with an
Ed25519 key the database never sees and stored elsewhere (a file shipped to WORM
storage, a SIEM): a chain rewritten at or before a checkpoint's entry no longer
matches it, and the checkpoint cannot be re-signed without the key.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from flowdesk.engines.audit.chain import canonical_json

FORMAT = "flowdesk-audit-checkpoint/1"
_HASH_HEX = frozenset("0123456789abcdef")


class CheckpointError(ValueError):
    """A checkpoint or key that cannot be read, or whose signature does not hold."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: str
    at: str  # ISO 8601 UTC, when it was signed
    key_id: str  # which key signed it: the first 16 hex digits of SHA-256(public key)
    signature: str  # base64 Ed25519 signature over `message()`

    def message(self) -> bytes:
        return _message(self.seq, self.hash, self.at, self.key_id)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, sort_keys=True)


def _message(seq: int, chain_hash: str, at: str, key_id: str) -> bytes:
    content = {"format": FORMAT, "seq": seq, "hash": chain_hash, "at": at, "key_id": key_id}
    return canonical_json(content).encode("utf-8")


def new_private_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(private_key_pem: bytes) -> bytes:
    return (
        _private_key(private_key_pem)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def key_id(public_pem: bytes) -> str:
    raw = _public_key(public_pem).public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return hashlib.sha256(raw).hexdigest()[:16]


def sign(private_key_pem: bytes, *, seq: int, chain_hash: str, at: str) -> Checkpoint:
    key = _private_key(private_key_pem)
    signer = key_id(public_key_pem(private_key_pem))
    signature = key.sign(_message(seq, chain_hash, at, signer))
    return Checkpoint(seq, chain_hash, at, signer, base64.b64encode(signature).decode("ascii"))


def check(checkpoint: Checkpoint, public_pem: bytes) -> None:
    """Raises CheckpointError unless `public_pem`'s key signed exactly this checkpoint."""
    if checkpoint.key_id != key_id(public_pem):
        raise CheckpointError(
            f"checkpoint of {checkpoint.at} was signed by key {checkpoint.key_id}, "
            f"not by this public key ({key_id(public_pem)})"
        )
    try:
        signature = base64.b64decode(checkpoint.signature, validate=True)
        _public_key(public_pem).verify(signature, checkpoint.message())
    except (InvalidSignature, binascii.Error) as exc:
        raise CheckpointError(
            f"checkpoint of {checkpoint.at} (entry {checkpoint.seq}): the signature does not "
            "match its content"
        ) from exc


def parse(line: str) -> Checkpoint:
    """One checkpoint from its JSON line; every field is checked for shape."""
    try:
        data: Any = json.loads(line)
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"not a JSON checkpoint: {exc.msg}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise CheckpointError(f"not a checkpoint in the {FORMAT} format")
    seq, chain_hash = data.get("seq"), data.get("hash")
    at, signer, signature = (data.get(k) for k in ("at", "key_id", "signature"))
    if not (isinstance(seq, int) and not isinstance(seq, bool) and seq >= 0):
        raise CheckpointError("checkpoint field 'seq' must be a whole number >= 0")
    if not (isinstance(chain_hash, str) and len(chain_hash) == 64 and set(chain_hash) <= _HASH_HEX):
        raise CheckpointError("checkpoint field 'hash' must be 64 lowercase hex digits")
    if not all(isinstance(t, str) and t for t in (at, signer, signature)):
        raise CheckpointError("checkpoint fields 'at', 'key_id' and 'signature' must be text")
    return Checkpoint(seq, chain_hash, str(at), str(signer), str(signature))


def _private_key(pem: bytes) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointError("not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointError("the private key must be an Ed25519 key")
    return key


def _public_key(pem: bytes) -> Ed25519PublicKey:
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise CheckpointError("not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointError("the public key must be an Ed25519 key")
    return key
