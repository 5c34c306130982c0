"""Attachment storage: the local directory and an S3-compatible server (moto's, started
by the test as a real HTTP server) behave alike behind BlobStore."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowdesk.store.blobs import BlobStore, LocalBlobStore, S3BlobStore


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    server_module = pytest.importorskip("moto.server")
    port = _free_port()
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture(params=["local", "s3"])
def blobs(request: pytest.FixtureRequest, tmp_path: Path) -> BlobStore:
    if request.param == "local":
        return LocalBlobStore(tmp_path / "attachments")
    endpoint = request.getfixturevalue("s3_endpoint")
    store = S3BlobStore(
        bucket=f"flowdesk-{tmp_path.name.lower().replace('_', '-')[-40:]}",
        prefix="attachments",
        endpoint_url=endpoint,
        region="us-east-1",
        access_key_id="test",
        secret_access_key="test",
    )
    store.client.create_bucket(Bucket=store.bucket)
    return store


def test_a_stored_file_reads_back_whole_and_is_deleted(blobs: BlobStore) -> None:
    data = "合同".encode() * 50_000  # several chunks
    blobs.put("key-0123456789", io.BytesIO(data), len(data))
    assert blobs.exists("key-0123456789")
    assert b"".join(blobs.chunks("key-0123456789")) == data
    blobs.delete("key-0123456789")
    assert not blobs.exists("key-0123456789")
    blobs.delete("key-0123456789")  # deleting twice is harmless (purges retry)


@pytest.mark.parametrize("key", ["../../etc/passwd", "a/b", "short", "x" * 65])
def test_keys_cannot_name_paths(blobs: BlobStore, key: str) -> None:
    with pytest.raises(ValueError):
        blobs.put(key, io.BytesIO(b"x"), 1)


def test_a_local_put_that_fails_leaves_no_file(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "attachments")
    with pytest.raises(OSError):
        store.put("key-0123456789", io.BytesIO(b"short"), 10)  # the source ended early
    assert not store.exists("key-0123456789")
    assert [p for p in (tmp_path / "attachments").rglob("*") if p.is_file()] == []


def test_local_files_are_private_to_the_server(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "attachments")
    store.put("key-0123456789", io.BytesIO(b"data"), 4)
    stored = tmp_path / "attachments" / "ke" / "key-0123456789"
    assert stored.stat().st_mode & 0o077 == 0
