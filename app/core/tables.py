"""The one schema, as SQLAlchemy Core tables: used by the read paths (which select
columns and need no ORM), by the ORM classes mapped onto these tables (app.core.models),
and by Alembic.

What only MySQL's DDL needs is written so that nothing here loads SQLAlchemy's MySQL
dialect (some 18 ms of a cold start on SQLite): the two column types are rendered for
MySQL by `@compiles` hooks, and the table options (character set and collation) are set
by `with_mysql_options()`, which Alembic calls (migrations/env.py). The runtime emits no
DDL; on MySQL it loads the dialect anyway, to connect.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.schema import SchemaItem
from sqlalchemy.sql.compiler import TypeCompiler

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


MYSQL = ("mysql", "mariadb")


class MySQLDateTime6(DateTime):
    """MySQL's DATETIME(6) (mysql.DATETIME(fsp=6)), without the MySQL dialect."""


class MySQLMediumText(Text):
    """MySQL's MEDIUMTEXT (mysql.MEDIUMTEXT()), without the MySQL dialect."""


@compiles(MySQLDateTime6, *MYSQL)
def _datetime6(_type: MySQLDateTime6, _compiler: TypeCompiler, **_kw: Any) -> str:
    return "DATETIME(6)"


@compiles(MySQLMediumText, *MYSQL)
def _mediumtext(_type: MySQLMediumText, _compiler: TypeCompiler, **_kw: Any) -> str:
    return "MEDIUMTEXT"


# Millisecond timestamps need fractional seconds, which MySQL's DATETIME drops by default.
Timestamp = DateTime().with_variant(MySQLDateTime6(), *MYSQL)
# Article bodies may exceed the 64 KiB of MySQL's TEXT.
LongText = Text().with_variant(MySQLMediumText(), *MYSQL)

# utf8mb4 with a binary collation: names and slugs compare exactly as on SQLite, so a
# username that exists on one backend exists on the other.
MYSQL_TABLE_OPTIONS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}

EXPORT_STATUSES = ("pending", "done", "failed")


def utcnow() -> datetime:
    """Naive UTC: both backends store timestamps without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def _cascading_fk(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE")


def _table(name: str, *items: SchemaItem) -> Table:
    return Table(name, metadata, *items)


users = _table(
    "users",
    Column("id", Integer, primary_key=True),
    Column("username", String(64), nullable=False, unique=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("password_hash", String(255), nullable=False),
    Column("bio", Text, nullable=False, default=""),
    Column("image", String(2048), nullable=True),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    Column("updated_at", Timestamp, nullable=False, default=utcnow, onupdate=utcnow),
)

tags = _table(
    "tags",
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
)

articles = _table(
    "articles",
    Column("id", Integer, primary_key=True),
    Column("slug", String(255), nullable=False, unique=True),
    Column("title", String(255), nullable=False),
    Column("description", String(1000), nullable=False),
    Column("body", LongText, nullable=False),
    Column("author_id", Integer, _cascading_fk("users.id"), nullable=False, index=True),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    Column("updated_at", Timestamp, nullable=False, default=utcnow, onupdate=utcnow),
    # Lists are newest first; the id breaks ties between equal timestamps.
    Index("ix_articles_created_at_id", "created_at", "id"),
)

comments = _table(
    "comments",
    Column("id", Integer, primary_key=True),
    Column("body", Text, nullable=False),
    Column("article_id", Integer, _cascading_fk("articles.id"), nullable=False, index=True),
    Column("author_id", Integer, _cascading_fk("users.id"), nullable=False, index=True),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    Column("updated_at", Timestamp, nullable=False, default=utcnow, onupdate=utcnow),
)

follows = _table(
    "follows",
    Column("follower_id", Integer, _cascading_fk("users.id"), primary_key=True),
    Column("followed_id", Integer, _cascading_fk("users.id"), primary_key=True),
    Index("ix_follows_followed_id", "followed_id"),
)

favorites = _table(
    "favorites",
    Column("user_id", Integer, _cascading_fk("users.id"), primary_key=True),
    Column("article_id", Integer, _cascading_fk("articles.id"), primary_key=True),
    Index("ix_favorites_article_id", "article_id"),
)

article_tags = _table(
    "article_tags",
    Column("article_id", Integer, _cascading_fk("articles.id"), primary_key=True),
    Column("tag_id", Integer, _cascading_fk("tags.id"), primary_key=True),
    Index("ix_article_tags_tag_id", "tag_id"),
)

exports = _table(
    "exports",
    # Opaque to clients: uuid4 hex, so ids can't be guessed or counted.
    Column("id", String(32), primary_key=True),
    Column("user_id", Integer, _cascading_fk("users.id"), nullable=False, index=True),
    Column("status", String(16), nullable=False, default="pending"),
    # Where the finished document is stored; derived from the ids, so it is set once.
    Column("object_key", String(255), nullable=True),
    # Shown to the user when the export failed.
    Column("failure_reason", String(1000), nullable=True),
    Column("created_at", Timestamp, nullable=False, default=utcnow),
    Column("updated_at", Timestamp, nullable=False, default=utcnow, onupdate=utcnow),
    CheckConstraint(
        "status IN (" + ", ".join(f"'{status}'" for status in EXPORT_STATUSES) + ")",
        name="status",
    ),
)

# A row per unit of work that writes over a network connection, inserted in its own
# transaction. When the connection is lost during COMMIT the client cannot tell whether
# the server committed; whether the row exists can (app/platform/db.py). A row is only
# needed for the moments after its commit: older ones are deleted as writes go on.
write_receipts = _table(
    "write_receipts",
    Column("id", String(32), primary_key=True),
    Column("created_at", Timestamp, nullable=False),
    Index("ix_write_receipts_created_at", "created_at"),
)


def with_mysql_options() -> MetaData:
    """The metadata, each table with MYSQL_TABLE_OPTIONS (for Alembic: what a migration
    generated from it creates on MySQL). Setting them loads the MySQL dialect."""
    for table in metadata.tables.values():
        for key, value in MYSQL_TABLE_OPTIONS.items():
            table.dialect_kwargs[key] = value
    return metadata
