"""Tags in use."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.models import Tag, article_tags


def list_tags(session: Session) -> dict[str, Any]:
    # Only tags that some article still carries; rows left by deleted articles stay hidden.
    names = session.scalars(
        select(Tag.name)
        .join(article_tags, article_tags.c.tag_id == Tag.id)
        .distinct()
        .order_by(Tag.name)
    )
    return {"tags": list(names)}
