"""Where attachments' bytes live: a local directory (the default) or an S3-compatible
bucket, behind one small interface. Keys are random ids chosen by the service, never a
user's file name; the database row says which key holds which file (ADR 0028)."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

CHUNK = 64 * 1024
_KEY = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


class BlobStore(Protocol):
    """Stores whole files by key. `put` leaves either the complete file or nothing."""

    def put(self, key: str, source: BinaryIO, size: int) -> None: ...

    def chunks(self, key: str) -> Iterator[bytes]: ...

    def delete(self, key: str) -> None: ...

    def exists(self, key: str) -> bool: ...


def _checked(key: str) -> str:
    if not _KEY.match(key):
        raise ValueError("a blob key is 8-64 letters, digits, '-' or '_'")
    return key


class LocalBlobStore:
    """Files under `root`, two-level fan-out by the key's first characters. A put writes a
    temporary file in the same directory, fsyncs it, renames it into place and fsyncs the
    directory, so a crash leaves the old state or the whole file, never part of one."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        key = _checked(key)
        return self.root / key[:2] / key

    def put(self, key: str, source: BinaryIO, size: int) -> None:
        target = self._path(key)
        target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        temporary = target.with_name(f".{key}.{secrets.token_hex(4)}.part")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "wb") as out:
                source.seek(0)
                written = 0
                while chunk := source.read(CHUNK):
                    out.write(chunk)
                    written += len(chunk)
                if written != size:
                    raise OSError(f"expected {size} bytes, read {written}")
                out.flush()
                os.fsync(out.fileno())
            temporary.replace(target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
            raise
        _fsync_directory(target.parent)

    def chunks(self, key: str) -> Iterator[bytes]:
        with self._path(key).open("rb") as source:
            while chunk := source.read(CHUNK):
                yield chunk

    def delete(self, key: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self._path(key).unlink()

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def _fsync_directory(directory: Path) -> None:
    """The rename is durable only once the directory entry is (POSIX; not on Windows)."""
    if os.name != "posix":
        return
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


class S3BlobStore:
    """Objects in one bucket of an S3-compatible service (MinIO, Ceph RGW, a cloud's
    object storage), under an optional prefix. S3 writes an object whole or not at all."""

    def __init__(
        self,
        *,
        bucket: str,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        client: Any = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        if client is None:
            import boto3  # only deployments that store on S3 pay for importing it

            client = boto3.client(
                "s3",
                endpoint_url=endpoint_url,
                region_name=region,
                aws_access_key_id=access_key_id,
                aws_secret_access_key=secret_access_key,
            )
        self.client = client

    def _name(self, key: str) -> str:
        return self.prefix + _checked(key)

    def put(self, key: str, source: BinaryIO, size: int) -> None:
        source.seek(0)
        self.client.put_object(
            Bucket=self.bucket, Key=self._name(key), Body=source, ContentLength=size
        )

    def chunks(self, key: str) -> Iterator[bytes]:
        answer = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        body = answer["Body"]
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True
