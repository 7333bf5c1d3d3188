"""The write-parity comparison can fail: deliberately wrong handlers, swapped in for the
real ones, are reported by `differences()` and fail `assert_write_case()`.

Each wrong handler answers exactly what the monolith answers, so only the comparison of
the database effects can tell it apart.
"""

from __future__ import annotations

from types import ModuleType

import pytest
from sqlalchemy import update

from app.core import validation
from app.core.services import articles, comments, profiles, users
from app.core.tables import users as users_table
from app.platform.lambda_http import NO_CONTENT, Answer, Request, json_body
from tests.support.api import user_id_of
from tests.support.parity import World
from tests.support.write_parity import (
    WriteCase,
    assert_write_case,
    both_sides,
    comment_ids,
    differences,
)

FAVORITE = WriteCase(
    "favorite_article",
    "new",
    200,
    "/api/articles/{dragon}/favorite",
    writes={"favorites": (1, 0, 0)},
)
UPDATE_BIO = WriteCase(
    "update_user", "bio", 200, "/api/user", body={"user": {"bio": "I like to skateboard"}},
    writes={"users": (0, 1, 0)},
)  # fmt: skip
DELETE_COMMENT = WriteCase(
    "delete_comment", "own", 204, "/api/articles/{dragon}/comments/{jane_comment}",
    auth="jane", writes={"comments": (0, 0, 1)},
)  # fmt: skip


def test_an_extra_row_is_reported(
    world: World, functions: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    module = functions["favorite_article"]

    def favorite_and_follow(request: Request) -> Answer:
        with module.runtime.writes(request.authorization) as (session, caller):
            answer = articles.favorite(session, request.path["slug"], caller.user_id)
            profiles.follow(session, "alice", caller.user_id)  # the extra row
            return Answer(answer)

    monkeypatch.setattr(module, "favorite_article", favorite_and_follow)
    found = differences(*both_sides(FAVORITE, world, functions))
    assert len(found) == 1, found
    assert found[0].startswith("follows: rows inserted: [] != [")
    with pytest.raises(AssertionError, match="follows: rows inserted"):
        assert_write_case(FAVORITE, world, functions, backend)


def test_a_missing_row_is_reported(
    world: World, functions: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    module = functions["favorite_article"]

    def favorite_in_words_only(request: Request) -> Answer:
        with module.runtime.writes(request.authorization) as (session, caller):
            nested = session.begin_nested()
            answer = articles.favorite(session, request.path["slug"], caller.user_id)
            nested.rollback()  # the answer says favorited; the row is gone
            return Answer(answer)

    monkeypatch.setattr(module, "favorite_article", favorite_in_words_only)
    found = differences(*both_sides(FAVORITE, world, functions))
    assert len(found) == 1, found
    assert found[0].startswith("favorites: rows inserted: [")
    assert found[0].endswith("] != []")
    with pytest.raises(AssertionError, match="favorites: rows inserted"):
        assert_write_case(FAVORITE, world, functions, backend)


def test_a_wrong_column_is_reported(
    world: World, functions: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    module = functions["update_user"]

    def bio_also_into_image(request: Request) -> Answer:
        with module.runtime.writes(request.authorization) as (session, caller):
            parsed = validation.parse_user_update(json_body(request))
            passwords = module.runtime.passwords
            answer = users.update_user(session, passwords, caller.user_id, caller.token, parsed)
            session.execute(  # the wrong column, after the answer was made
                update(users_table)
                .where(users_table.c.id == caller.user_id)
                .values(image=parsed["bio"])
            )
            return Answer(answer)

    monkeypatch.setattr(module, "update_user", bio_also_into_image)
    found = differences(*both_sides(UPDATE_BIO, world, functions))
    assert len(found) == 1, found
    assert found[0].startswith("users: rows updated: [")
    assert "'image': (None, 'I like to skateboard')" in found[0]
    with pytest.raises(AssertionError, match="users: rows updated"):
        assert_write_case(UPDATE_BIO, world, functions, backend)


def test_a_wrong_row_is_reported(
    world: World, functions: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    """Deleting alice's comment where jane's was asked for: one row deleted on each side,
    not the same one."""
    module = functions["delete_comment"]
    alice = user_id_of(world.accounts["alice"])

    def delete_the_other_comment(request: Request) -> Answer:
        with module.runtime.writes(request.authorization) as (session, _caller):
            other = comment_ids(world)["alice_comment"]
            comments.delete_comment(session, request.path["slug"], other, alice)
        return NO_CONTENT

    monkeypatch.setattr(module, "delete_comment", delete_the_other_comment)
    found = differences(*both_sides(DELETE_COMMENT, world, functions))
    assert len(found) == 1, found
    assert found[0].startswith("comments: rows deleted: [")
    with pytest.raises(AssertionError, match="comments: rows deleted"):
        assert_write_case(DELETE_COMMENT, world, functions, backend)


def test_a_wrong_status_is_reported(
    world: World, functions: dict[str, ModuleType], monkeypatch: pytest.MonkeyPatch, backend: str
) -> None:
    module = functions["favorite_article"]
    real = module.favorite_article

    def created(request: Request) -> Answer:
        answer: Answer = real(request)
        return Answer(answer.payload, 201)

    monkeypatch.setattr(module, "favorite_article", created)
    found = differences(*both_sides(FAVORITE, world, functions))
    assert found == ["status: 200 != 201"]
    with pytest.raises(AssertionError, match="status: 200 != 201"):
        assert_write_case(FAVORITE, world, functions, backend)
