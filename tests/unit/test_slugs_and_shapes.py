"""Slugs and the RealWorld JSON shapes, built from unsaved model objects."""

from __future__ import annotations

from datetime import datetime

import pytest

from app.core import shapes
from app.core.models import Article, Comment, User
from app.core.services.articles import slugify, slugify_base


@pytest.mark.parametrize(
    ("title", "slug"),
    [
        ("How to train your dragon", "how-to-train-your-dragon"),
        ("  Leading and trailing  ", "leading-and-trailing"),
        ("Hello, World!!!", "hello-world"),
        ("already-a-slug", "already-a-slug"),
        ("--dashes--", "dashes"),
        ("Crème Brûlée", "creme-brulee"),
        ("\uff26\uff35\uff2c\uff2c width", "full-width"),  # fullwidth letters
        ("Straße", "strae"),
        ("日本語のタイトル", "article"),
        ("!!!", "article"),
        ("", "article"),
        ("Version 2.0 released", "version-2-0-released"),
        ("a" * 250, "a" * 200),
        ("word " * 60, ("word-" * 40).rstrip("-")),
    ],
)
def test_slugify(title: str, slug: str) -> None:
    assert slugify(title) == slug
    assert len(slugify(title)) <= 200


@pytest.mark.parametrize(
    ("slug", "base"),
    [
        ("dragon", "dragon"),
        ("dragon-0a1b2c3d", "dragon"),
        ("dragon-0a1b2c3", "dragon-0a1b2c3"),
        ("dragon-0A1B2C3D", "dragon-0A1B2C3D"),
        ("dragon-0a1b2c3d-x", "dragon-0a1b2c3d-x"),
    ],
)
def test_slugify_base_strips_only_a_clash_suffix(slug: str, base: str) -> None:
    assert slugify_base(slug) == base


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (datetime(2016, 2, 18, 3, 22, 56, 637000), "2016-02-18T03:22:56.637Z"),
        (datetime(2016, 2, 18, 3, 22, 56), "2016-02-18T03:22:56.000Z"),
        (datetime(2016, 2, 18, 3, 22, 56, 999999), "2016-02-18T03:22:56.999Z"),
        (datetime(2016, 2, 18, 3, 22, 56, 1500), "2016-02-18T03:22:56.001Z"),
        (datetime(2024, 12, 31, 23, 59, 59, 999), "2024-12-31T23:59:59.000Z"),
    ],
)
def test_timestamp(moment: datetime, text: str) -> None:
    assert shapes.timestamp(moment) == text


def _author() -> User:
    return User(id=1, username="jake", email="jake@x.io", password_hash="h", bio="Bio", image=None)


def _article() -> Article:
    moment = datetime(2020, 1, 2, 3, 4, 5, 6000)
    return Article(
        id=7,
        slug="s",
        title="T",
        description="D",
        body="B",
        created_at=moment,
        updated_at=datetime(2021, 1, 1),
    )


TAGS = ["zeta", "alpha", "Mid"]


def test_article_shape() -> None:
    shaped = shapes.article(
        _article(),
        author=_author(),
        tags=TAGS,
        favorited=True,
        favorites_count=3,
        following_author=True,
    )
    assert shaped == {
        "slug": "s",
        "title": "T",
        "description": "D",
        "body": "B",
        "tagList": ["Mid", "alpha", "zeta"],
        "createdAt": "2020-01-02T03:04:05.006Z",
        "updatedAt": "2021-01-01T00:00:00.000Z",
        "favorited": True,
        "favoritesCount": 3,
        "author": {"username": "jake", "bio": "Bio", "image": None, "following": True},
    }


def test_article_shape_for_lists_has_no_body() -> None:
    shaped = shapes.article(
        _article(),
        author=_author(),
        tags=TAGS,
        favorited=False,
        favorites_count=0,
        following_author=False,
        with_body=False,
    )
    assert "body" not in shaped
    assert list(shaped)[:3] == ["slug", "title", "description"]


def test_user_shape_carries_the_token_and_never_the_hash() -> None:
    shaped = shapes.user(_author(), "tok")
    assert shaped == {
        "email": "jake@x.io",
        "token": "tok",
        "username": "jake",
        "bio": "Bio",
        "image": None,
    }


def test_comment_shape() -> None:
    moment = datetime(2020, 5, 6, 7, 8, 9)
    comment = Comment(id=3, body="Nice", created_at=moment, updated_at=moment, article_id=7)
    assert shapes.comment(comment, author=_author(), following_author=False) == {
        "id": 3,
        "createdAt": "2020-05-06T07:08:09.000Z",
        "updatedAt": "2020-05-06T07:08:09.000Z",
        "body": "Nice",
        "author": {"username": "jake", "bio": "Bio", "image": None, "following": False},
    }
