"""The one schema, as SQLAlchemy Core tables: used by the read paths (which select
columns and need no ORM), by the ORM classes mapped onto these tables (app.core.models),
and by Alembic."""

from __future__ import annotations

from datetime import UTC, datetime

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
from sqlalchemy.dialects import mysql
from sqlalchemy.schema import SchemaItem

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


# Millisecond timestamps need fractional seconds, which MySQL's DATETIME drops by default.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# Article bodies may exceed the 64 KiB of MySQL's TEXT.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")

EXPORT_STATUSES = ("pending", "done", "failed")


def utcnow() -> datetime:
    """Naive UTC: both backends store timestamps without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


def _cascading_fk(target: str) -> ForeignKey:
    return ForeignKey(target, ondelete="CASCADE")


def _table(name: str, *items: SchemaItem) -> Table:
    # utf8mb4 with a binary collation: names and slugs compare exactly as on SQLite,
    # so a username that exists on one backend exists on the other.
    return Table(name, metadata, *items, mysql_charset="utf8mb4", mysql_collate="utf8mb4_bin")


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
