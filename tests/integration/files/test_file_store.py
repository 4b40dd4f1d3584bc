"""The thread file store on PostgreSQL large objects: content addressing, access by thread
and owner, listing, idempotent puts, retention that deletes bytes and keeps records."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from actors.thread.file_store import (
    FileBytesDeleted,
    FileNotFound,
    NewFile,
    content_address,
    file_id_for,
)
from actors.thread.tools.base import ToolFailure
from infra.endpoints import Endpoints
from infra.files.pg_store import PostgresFileStore
from infra.files.thread_files import StoreFiles
from infra.postgres import create_pool


@pytest_asyncio.fixture(loop_scope="session")
async def store(stack: Endpoints) -> AsyncIterator[PostgresFileStore]:
    pool = await create_pool(stack.database_url, min_size=1, max_size=4)
    store = PostgresFileStore(pool, schema=f"fs_{uuid.uuid4().hex[:10]}")
    await store.migrate()
    yield store
    await store.sweep(stored_before=datetime.now(UTC) + timedelta(days=1))  # unlink test blobs
    await pool.close()


def _new(thread: str = "100:0", owner: int = 100, **kwargs: str) -> NewFile:
    values = {"name": "report.pdf", "mime_type": "application/pdf", "kind": "pdf"} | kwargs
    return NewFile(thread_key=thread, owner_user_id=owner, origin="user", **values)  # type: ignore[arg-type]


async def test_a_file_is_stored_once_by_content_and_read_back(store: PostgresFileStore) -> None:
    """Bytes come back as stored; the id is derived from thread, origin and content, so
    storing the same bytes again in the thread is the same file (and one blob)."""
    data = b"%PDF-1.4 hello" * 1000
    first = await store.put(_new(), data)
    again = await store.put(_new(name="copy.pdf"), data)
    assert first.file_id == again.file_id == file_id_for("100:0", "user", content_address(data))
    assert first.sha256 == content_address(data)
    assert first.size_bytes == len(data)
    assert await store.read(first.file_id, thread_key="100:0", user_id=100) == data
    other_thread = await store.put(_new(thread="200:0", owner=200), data)
    assert other_thread.file_id != first.file_id
    assert [f.file_id for f in await store.list(thread_key="100:0")] == [first.file_id]


async def test_another_thread_or_user_cannot_reach_a_file(store: PostgresFileStore) -> None:
    """A file is reachable only from its thread by its owner; elsewhere it is not found,
    exactly like an id that never existed."""
    stored = await store.put(_new(thread="300:0", owner=300), b"secret bytes")
    for thread, user in (("301:0", 301), ("300:0", 301), ("301:0", 300)):
        with pytest.raises(FileNotFound):
            await store.read(stored.file_id, thread_key=thread, user_id=user)
        with pytest.raises(FileNotFound):
            await store.get(stored.file_id, thread_key=thread, user_id=user)
    with pytest.raises(FileNotFound):
        await store.read(str(uuid.uuid4()), thread_key="300:0", user_id=300)
    assert await store.list(thread_key="300:0", user_id=301) == []


async def test_names_are_sanitised(store: PostgresFileStore) -> None:
    """A path, control characters or shell metacharacters never reach the stored name."""
    stored = await store.put(_new(name="../../etc/pa\x00ss$(rm -rf).txt"), b"x")
    assert stored.name == "pass_(rm -rf).txt"
    blank = await store.put(_new(name="..."), b"y")
    assert blank.name == "pdf.bin"


async def test_retention_deletes_bytes_keeps_records_and_put_restores(
    store: PostgresFileStore,
) -> None:
    """A sweep deletes the bytes of files stored before the cut-off (shared blobs only when
    no newer file uses them); the record stays and reading answers why; storing the same
    bytes again restores them."""
    old = await store.put(_new(thread="400:0", owner=400), b"old bytes")
    report = await store.sweep(stored_before=datetime.now(UTC) + timedelta(seconds=1))
    assert report.files >= 1
    assert report.blobs >= 1
    assert report.bytes_freed >= len(b"old bytes")
    with pytest.raises(FileBytesDeleted, match="retention"):
        await store.read(old.file_id, thread_key="400:0", user_id=400)
    kept = await store.get(old.file_id, thread_key="400:0", user_id=400)
    assert kept.bytes_deleted_at is not None
    assert not kept.available
    again = await store.put(_new(thread="400:0", owner=400), b"old bytes")
    assert again.file_id == old.file_id
    assert again.available
    assert await store.read(old.file_id, thread_key="400:0", user_id=400) == b"old bytes"


async def test_a_sweep_keeps_a_blob_a_newer_file_still_uses(store: PostgresFileStore) -> None:
    """Two threads share one blob: the older file's bytes go, the newer file still reads."""
    shared = b"shared content"
    older = await store.put(_new(thread="500:0", owner=500), shared)
    await asyncio.sleep(0.05)
    cut = datetime.now(UTC)
    await asyncio.sleep(0.05)
    newer = await store.put(_new(thread="501:0", owner=501), shared)
    await store.sweep(stored_before=cut)
    with pytest.raises(FileBytesDeleted):
        await store.read(older.file_id, thread_key="500:0", user_id=500)
    assert await store.read(newer.file_id, thread_key="501:0", user_id=501) == shared


async def test_concurrent_puts_of_the_same_bytes_keep_one_blob(store: PostgresFileStore) -> None:
    """Ten threads storing the same new bytes at once end with one blob, all readable."""
    data = uuid.uuid4().bytes * 100
    stored = await asyncio.gather(
        *(store.put(_new(thread=f"6{i:02d}:0", owner=600 + i), data) for i in range(10))
    )
    for i, f in enumerate(stored):
        assert await store.read(f.file_id, thread_key=f"6{i:02d}:0", user_id=600 + i) == data


async def test_a_tool_asking_for_a_deleted_or_foreign_file_gets_a_clear_answer(
    store: PostgresFileStore,
) -> None:
    """Through the tools' view: deleted bytes answer not_found saying retention deleted them
    and to send the file again; another user's file is simply not in this conversation."""
    stored = await store.put(_new(thread="700:0", owner=700), b"to be swept")
    await store.sweep(stored_before=datetime.now(UTC) + timedelta(seconds=1))
    mine = StoreFiles(store, None).for_thread("700:0", 700)
    with pytest.raises(ToolFailure, match="retention policy; please send it again") as deleted:
        await mine.read_id(stored.file_id)
    assert deleted.value.error_class == "not_found"
    theirs = StoreFiles(store, None).for_thread("701:0", 701)
    with pytest.raises(ToolFailure, match=r"no file .* in this conversation"):
        await theirs.read_id(stored.file_id)
    assert await theirs.list() == []
