"""``brobygger backup`` and ``brobygger restore``: the whole database in one file.

A backup is a zip file with ``meta.json`` (format, schema revision, time, rows per table) and
one JSON-lines file per table, written from one read transaction (a consistent snapshot on
SQLite and PostgreSQL alike), then renamed into place, so a backup file is either complete or
absent. It is independent of the database engine: a SQLite backup restores into PostgreSQL and
the other way round. The FAISS indexes are not in it: they are derived from the database, and
the embedding cache is in the backup, so ``restore`` rebuilds them without embedding anything.

``restore`` only writes into an empty database (it refuses otherwise), inserts every table
in dependency order in one transaction (all or nothing) and then rebuilds the indexes.
"""

from __future__ import annotations

import base64
import json
import os
import zipfile
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import SQLModel

from models.db import current_revision
from models.tables import aware  # importing models.tables registers every table
from service.runtime import Runtime
from service.search import sync_engine

FORMAT = 1
Progress = Callable[[str, int], None]


class BackupError(Exception):
    """A backup that cannot be written or restored; the message is for the user."""


def _tables() -> list[sa.Table]:
    return [t for t in SQLModel.metadata.sorted_tables if t.name != "alembic_version"]


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return aware(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode("ascii")
    return value


def _decoder(column: sa.Column[Any]) -> Callable[[Any], Any]:
    kind = column.type
    if isinstance(kind, sa.TypeDecorator):  # e.g. sqlmodel's UTCDateTime
        kind = kind.impl if isinstance(kind.impl, sa.types.TypeEngine) else kind.impl()
    if isinstance(kind, sa.DateTime):
        return lambda v: datetime.fromisoformat(v)
    if isinstance(kind, sa.Date):
        return lambda v: date.fromisoformat(v)
    if isinstance(kind, sa.LargeBinary):
        return lambda v: base64.b64decode(v)
    return lambda v: v


def backup(rt: Runtime, path: Path, progress: Progress | None = None) -> dict[str, int]:
    """Write the database to ``path``; returns rows per table."""
    path = path.expanduser().resolve()
    if path.suffix.lower() != ".zip":
        raise BackupError(f"Sikkerhetskopien må være en .zip-fil, ikke «{path.name}».")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    counts: dict[str, int] = {}
    try:
        with rt.engine.connect() as conn, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as z:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
            revision = current_revision(rt.engine)
            for table in _tables():
                n = 0
                with z.open(f"tables/{table.name}.jsonl", "w") as fh:
                    for row in conn.execute(sa.select(table)).mappings():
                        line = {k: _encode(v) for k, v in row.items()}
                        fh.write(json.dumps(line, ensure_ascii=False).encode("utf-8") + b"\n")
                        n += 1
                counts[table.name] = n
                if progress:
                    progress(table.name, n)
            meta = {
                "format": FORMAT,
                "revision": revision,
                "created_at": datetime.now(UTC).isoformat(),
                "database": conn.dialect.name,
                "embedder": rt.settings.embedder,
                "tables": counts,
            }
            z.writestr("meta.json", json.dumps(meta, indent=2, ensure_ascii=False))
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise BackupError(f"Kunne ikke skrive sikkerhetskopien {path}: {exc.strerror}.") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return counts


def read_meta(path: Path) -> dict[str, Any]:
    try:
        with zipfile.ZipFile(path) as z:
            meta = json.loads(z.read("meta.json"))
    except FileNotFoundError as exc:
        raise BackupError(f"Fant ikke sikkerhetskopien {path}.") from exc
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError) as exc:
        raise BackupError(
            f"{path} er ikke en sikkerhetskopi fra Brobygger (eller er skadet)."
        ) from exc
    if meta.get("format") != FORMAT:
        raise BackupError(f"Ukjent format på sikkerhetskopien ({meta.get('format')}).")
    return dict(meta)


def _check_restorable(rt: Runtime, meta: dict[str, Any], tables: list[sa.Table]) -> None:
    """Refuse a backup of another schema version, or a database that is not empty."""
    revision = current_revision(rt.engine)
    if meta["revision"] != revision:
        raise BackupError(
            f"Sikkerhetskopien er fra skjemaversjon {meta['revision']}, databasen har "
            f"{revision}. Gjenopprett med samme versjon av Brobygger som tok kopien."
        )
    with rt.engine.connect() as conn:
        filled = [
            t.name
            for t in tables
            if conn.execute(sa.select(sa.func.count()).select_from(t)).scalar()
        ]
    if filled:
        raise BackupError(
            "Databasen er ikke tom (" + ", ".join(filled) + "). Gjenopprett til en ny, tom "
            "database (et nytt BROBYGGER_HOME eller en ny BROBYGGER_DATABASE_URL)."
        )


def _load_table(z: zipfile.ZipFile, conn: sa.Connection, table: sa.Table, expected: int) -> int:
    """Insert one table's rows from the backup, 1,000 at a time; returns how many."""
    decode = {c.name: _decoder(c) for c in table.columns}
    rows: list[dict[str, Any]] = []
    n = 0
    name = f"tables/{table.name}.jsonl"
    if name not in z.namelist():
        raise BackupError(f"Tabellen {table.name} mangler i sikkerhetskopien.")
    with z.open(name) as fh:
        for line in fh:
            raw = json.loads(line)
            rows.append({k: None if v is None else decode[k](v) for k, v in raw.items()})
            if len(rows) == 1000:
                conn.execute(table.insert(), rows)
                n, rows = n + len(rows), []
    if rows:
        conn.execute(table.insert(), rows)
        n += len(rows)
    if n != expected:
        raise BackupError(
            f"Tabellen {table.name} har {n} rader, men sikkerhetskopien oppgir "
            f"{expected}: filen er skadet."
        )
    return n


def _reset_sequences(conn: sa.Connection, tables: list[sa.Table], counts: dict[str, int]) -> None:
    """PostgreSQL: the next id after the restored ones."""
    for table in tables:
        if "id" in table.columns and counts[table.name]:
            conn.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                    f'(SELECT max(id) FROM "{table.name}"))'
                )
            )


def restore(rt: Runtime, path: Path, progress: Progress | None = None) -> dict[str, int]:
    """Load the backup at ``path`` into the (empty) database of ``rt`` and rebuild the
    indexes; returns rows per table."""
    meta = read_meta(path)
    tables = _tables()
    _check_restorable(rt, meta, tables)
    counts: dict[str, int] = {}
    try:
        with zipfile.ZipFile(path) as z, rt.engine.begin() as conn:
            for table in tables:
                expected = meta["tables"].get(table.name, 0)
                counts[table.name] = _load_table(z, conn, table, expected)
                if progress:
                    progress(table.name, counts[table.name])
            if conn.dialect.name == "postgresql":
                _reset_sequences(conn, tables, counts)
    except (zipfile.BadZipFile, json.JSONDecodeError, KeyError, ValueError) as exc:
        raise BackupError(f"{path} er skadet: {exc}. Ingenting ble gjenopprettet.") from exc
    sync_engine(rt.engine, rt.store, rebuild=True)
    return counts
