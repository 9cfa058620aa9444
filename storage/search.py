"""Full-text search over disclosures, accent-insensitive, on SQLite (FTS5) and PostgreSQL.

Both indexes cover the folded columns `search_title` and `search_body` (bot.textfold.fold:
no diacritics, đ -> d, lower case), so the query is folded the same way and "duong giao
thong" finds "Đường giao thông". Title words weigh more than body words; ties go to the
newer disclosure.

SQLite: an external-content FTS5 table kept in step by triggers. PostgreSQL: a stored
generated tsvector column with a GIN index. The objects are created with the table (by
`create_all` and by the migration) and are invisible to the models, so the schema
comparison skips them (`include_object`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from storage.textfold import fold

MAX_TERMS = 12
# Ranking every match of a very common word costs time for no use: a query is first ranked
# among the newest RECENT_WINDOW disclosures and widened to all only when that finds too few.
RECENT_WINDOW = 2000
_WORD = re.compile(r"[0-9a-z]+")

_SQLITE_CREATE = (
    "CREATE VIRTUAL TABLE disclosure_fts USING fts5("
    "search_title, search_body, content='disclosures', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER disclosure_fts_ai AFTER INSERT ON disclosures BEGIN "
    "INSERT INTO disclosure_fts(rowid, search_title, search_body) "
    "VALUES (new.id, new.search_title, new.search_body); END",
    "CREATE TRIGGER disclosure_fts_ad AFTER DELETE ON disclosures BEGIN "
    "INSERT INTO disclosure_fts(disclosure_fts, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); END",
    "CREATE TRIGGER disclosure_fts_au AFTER UPDATE OF search_title, search_body "
    "ON disclosures BEGIN "
    "INSERT INTO disclosure_fts(disclosure_fts, rowid, search_title, search_body) "
    "VALUES ('delete', old.id, old.search_title, old.search_body); "
    "INSERT INTO disclosure_fts(rowid, search_title, search_body) "
    "VALUES (new.id, new.search_title, new.search_body); END",
)
_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS disclosure_fts_ai",
    "DROP TRIGGER IF EXISTS disclosure_fts_ad",
    "DROP TRIGGER IF EXISTS disclosure_fts_au",
    "DROP TABLE IF EXISTS disclosure_fts",
)
_PG_CREATE = (
    "ALTER TABLE disclosures ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('simple', search_title), 'A') || "
    "setweight(to_tsvector('simple', search_body), 'B')) STORED",
    "CREATE INDEX ix_disclosures_search ON disclosures USING gin (search_vector)",
)
_PG_DROP = (
    "DROP INDEX IF EXISTS ix_disclosures_search",
    "ALTER TABLE disclosures DROP COLUMN IF EXISTS search_vector",
)


def create_index(connection: sa.Connection) -> None:
    """Create the search index next to the `disclosures` table (idempotent per dialect)."""
    statements = _SQLITE_CREATE if connection.dialect.name == "sqlite" else _PG_CREATE
    for statement in statements:
        connection.exec_driver_sql(statement)


def drop_index(connection: sa.Connection) -> None:
    """Remove the search index (before the table goes)."""
    statements = _SQLITE_DROP if connection.dialect.name == "sqlite" else _PG_DROP
    for statement in statements:
        connection.exec_driver_sql(statement)


def attach_to(table: sa.Table) -> None:
    """Make `create_all` / `drop_all` build and remove the index with the table."""
    sa.event.listen(table, "after_create", lambda _t, conn, **_kw: create_index(conn))
    sa.event.listen(table, "before_drop", lambda _t, conn, **_kw: drop_index(conn))


def include_object(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
                   ) -> bool:
    """Alembic filter: the search objects are not in the models and must stay out of diffs."""
    if type_ == "table" and name and name.startswith("disclosure_fts"):
        return False
    return not (name in {"search_vector", "ix_disclosures_search"} and reflected
                and compare_to is None)


def terms(query: str) -> list[str]:
    """The folded words of a query, without operators or punctuation, at most MAX_TERMS."""
    words = _WORD.findall(fold(query))
    unique = list(dict.fromkeys(words))
    return unique[:MAX_TERMS]


def match_expression(dialect: str, words: Sequence[str], every: bool) -> str:
    """The engine's query string: all words (`every`) or any of them."""
    if dialect == "sqlite":
        return (" AND " if every else " OR ").join(f'"{w}"' for w in words)
    return (" & " if every else " | ").join(words)


def ranked_ids(dialect: str) -> sa.TextClause:
    """`(id, rank)` of matching disclosures with id > :floor, best first (binds :match,
    :floor, :limit). Equal ranks are ordered newest first by the caller."""
    if dialect == "sqlite":
        return sa.text(
            "SELECT rowid, bm25(disclosure_fts, 10.0, 1.0) AS rank FROM disclosure_fts "
            "WHERE disclosure_fts MATCH :match AND rowid > :floor "
            "ORDER BY rank LIMIT :limit"
        )
    return sa.text(
        "SELECT id, -ts_rank(search_vector, q) AS rank "
        "FROM disclosures, to_tsquery('simple', :match) q "
        "WHERE search_vector @@ q AND id > :floor ORDER BY rank LIMIT :limit"
    )
