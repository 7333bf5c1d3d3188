"""Tags in use."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from app.core.tables import article_tags, tags

if TYPE_CHECKING:
    from app.core.services._common import Executor

# Only tags that some article still carries; rows left by deleted articles stay hidden.
_TAGS_IN_USE = (
    select(tags.c.name)
    .join(article_tags, article_tags.c.tag_id == tags.c.id)
    .distinct()
    .order_by(tags.c.name)
)


def list_tags(executor: Executor) -> dict[str, Any]:
    return {"tags": [name for (name,) in executor.execute(_TAGS_IN_USE)]}
