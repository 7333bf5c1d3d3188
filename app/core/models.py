"""The one schema: used by the monolith, the dedicated functions and Alembic."""

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
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# utf8mb4 with a binary collation: names and slugs compare exactly as on SQLite,
# so a username that exists on one backend exists on the other.
MYSQL_TABLE_OPTIONS = {"mysql_charset": "utf8mb4", "mysql_collate": "utf8mb4_bin"}

# Millisecond timestamps need fractional seconds, which MySQL's DATETIME drops by default.
Timestamp = DateTime().with_variant(mysql.DATETIME(fsp=6), "mysql", "mariadb")
# Article bodies may exceed the 64 KiB of MySQL's TEXT.
LongText = Text().with_variant(mysql.MEDIUMTEXT(), "mysql", "mariadb")


def utcnow() -> datetime:
    """Naive UTC: both backends store timestamps without a zone."""
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


follows = Table(
    "follows",
    Base.metadata,
    Column("follower_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("followed_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_follows_followed_id", "followed_id"),
    mysql_charset=MYSQL_TABLE_OPTIONS["mysql_charset"],
    mysql_collate=MYSQL_TABLE_OPTIONS["mysql_collate"],
)

favorites = Table(
    "favorites",
    Base.metadata,
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_favorites_article_id", "article_id"),
    mysql_charset=MYSQL_TABLE_OPTIONS["mysql_charset"],
    mysql_collate=MYSQL_TABLE_OPTIONS["mysql_collate"],
)

article_tags = Table(
    "article_tags",
    Base.metadata,
    Column("article_id", Integer, ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", Integer, ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_article_tags_tag_id", "tag_id"),
    mysql_charset=MYSQL_TABLE_OPTIONS["mysql_charset"],
    mysql_collate=MYSQL_TABLE_OPTIONS["mysql_collate"],
)


class User(Base):
    __tablename__ = "users"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    bio: Mapped[str] = mapped_column(Text, default="")
    image: Mapped[str | None] = mapped_column(String(2048))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


class Tag(Base):
    __tablename__ = "tags"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        # Lists are newest first; the id breaks ties between equal timestamps.
        Index("ix_articles_created_at_id", "created_at", "id"),
        MYSQL_TABLE_OPTIONS,
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(255))
    description: Mapped[str] = mapped_column(String(1000))
    body: Mapped[str] = mapped_column(LongText)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)

    author: Mapped[User] = relationship(lazy="raise")
    tags: Mapped[list[Tag]] = relationship(secondary=article_tags, lazy="raise")


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = MYSQL_TABLE_OPTIONS

    id: Mapped[int] = mapped_column(primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)

    author: Mapped[User] = relationship(lazy="raise")


EXPORT_STATUSES = ("pending", "done", "failed")


class Export(Base):
    """A user's request for a copy of their data, built off the request path (issue 6)."""

    __tablename__ = "exports"
    __table_args__ = (
        CheckConstraint(
            "status IN (" + ", ".join(f"'{status}'" for status in EXPORT_STATUSES) + ")",
            name="status",
        ),
        MYSQL_TABLE_OPTIONS,
    )

    # Opaque to clients: uuid4 hex, so ids can't be guessed or counted.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    # Where the finished document is stored; derived from the ids, so it is set once.
    object_key: Mapped[str | None] = mapped_column(String(255))
    # Shown to the user when the export failed.
    failure_reason: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(Timestamp, default=utcnow, onupdate=utcnow)


# A row per unit of work that writes over a network connection, inserted in its own
# transaction. When the connection is lost during COMMIT the client cannot tell whether
# the server committed; whether the row exists can (app/platform/db.py). A row is only
# needed for the moments after its commit: older ones are deleted as writes go on.
write_receipts = Table(
    "write_receipts",
    Base.metadata,
    Column("id", String(32), primary_key=True),
    Column("created_at", Timestamp, nullable=False),
    Index("ix_write_receipts_created_at", "created_at"),
    mysql_charset=MYSQL_TABLE_OPTIONS["mysql_charset"],
    mysql_collate=MYSQL_TABLE_OPTIONS["mysql_collate"],
)
