"""The floor: the least a handler for a route could do. It imports only SQLAlchemy and
the database driver, opens the same database, runs the route's main query, and returns
the rows as JSON. No framework, no auth, no shaping: what no dedicated function can beat."""

import json
import os

from sqlalchemy import create_engine, text

engine = create_engine(os.environ["DATABASE_URL"], pool_size=1, max_overflow=0)

# One query per route: the one the service spends its time on.
QUERIES = {
    "/api/tags": (
        "SELECT DISTINCT tags.name FROM tags "
        "JOIN article_tags ON article_tags.tag_id = tags.id ORDER BY tags.name"
    ),
    "/api/articles": (
        "SELECT articles.slug, articles.title, articles.description, articles.created_at, "
        "users.username FROM articles JOIN users ON users.id = articles.author_id "
        "ORDER BY articles.created_at DESC, articles.id DESC LIMIT 20"
    ),
    "/api/articles/feed": (
        "SELECT articles.slug, articles.title, articles.created_at FROM articles "
        "WHERE articles.author_id IN (SELECT followed_id FROM follows WHERE follower_id = 1) "
        "ORDER BY articles.created_at DESC, articles.id DESC LIMIT 20"
    ),
    "article": (
        "SELECT articles.slug, articles.title, articles.body, users.username FROM articles "
        "JOIN users ON users.id = articles.author_id WHERE articles.slug = :slug"
    ),
    "comments": (
        "SELECT comments.id, comments.body, users.username FROM comments "
        "JOIN users ON users.id = comments.author_id JOIN articles ON articles.id = "
        "comments.article_id WHERE articles.slug = :slug ORDER BY comments.created_at"
    ),
    "profile": "SELECT username, bio, image FROM users WHERE username = :username",
}


def _query(path):
    parts = path.strip("/").split("/")
    if path in QUERIES:
        return QUERIES[path], {}
    if parts[:2] == ["api", "profiles"]:
        return QUERIES["profile"], {"username": parts[2]}
    if parts[-1] == "comments":
        return QUERIES["comments"], {"slug": parts[2]}
    return QUERIES["article"], {"slug": parts[2]}


def handler(event, context):
    sql, params = _query(event["rawPath"])
    with engine.connect() as connection:
        rows = [list(map(str, row)) for row in connection.execute(text(sql), params)]
    return {"statusCode": 200, "body": json.dumps(rows)}
