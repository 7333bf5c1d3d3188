"""The floor: the least a handler for a route could do. It imports only SQLAlchemy, the
database driver and the IAM token signer, connects the way production does (on MariaDB
the token is the password of each new connection), runs the route's main query and
returns the rows as JSON; for a write, runs the route's main statement with the values of
the request (its path parameters and JSON body) in a transaction, commits it, and fails
unless it changed exactly one row. No framework, no auth check, no shaping: what no
dedicated function can beat. The writes act for the user BENCH_WRITER_ID (the bench's
writer, whose token the other sides are sent).

Like every function on Lambda, it keeps the standard-library packages SQLAlchemy imports
for its asyncio support alone out of its init (app/platform/deferred_imports.py).

The signer and the deferral are this checkout's app/platform/rds_iam.py and
app/platform/deferred_imports.py, copied next to this file as `floor_rds_iam` and
`floor_deferred_imports` (standard library only), so the floor stays the same whichever
package is measured."""

import floor_deferred_imports

floor_deferred_imports.install()

import json  # noqa: E402 - after the deferral, as in a function
import os  # noqa: E402
import re  # noqa: E402
from datetime import UTC, datetime  # noqa: E402

import floor_rds_iam  # noqa: E402
from sqlalchemy import create_engine, event, text  # noqa: E402

if os.environ.get("DB_HOST"):
    engine = create_engine(
        "mysql+pymysql://{}@{}:{}/{}".format(
            os.environ["DB_USER"], os.environ["DB_HOST"], os.environ["DB_PORT"],
            os.environ["DB_NAME"],
        ),
        pool_size=1,
        max_overflow=0,
        # As the app does with DB_TLS=false: no TLS, so no TLS context for each connection.
        connect_args={"ssl_disabled": os.environ.get("DB_TLS") == "false"},
    )  # fmt: skip
    token = floor_rds_iam.IamAuthToken(
        host=os.environ["DB_HOST"],
        port=int(os.environ["DB_PORT"]),
        user=os.environ["DB_USER"],
        region=os.environ["AWS_REGION"],
    )

    @event.listens_for(engine, "do_connect")
    def _password(_dialect, _record, _cargs, cparams):
        cparams["password"] = token()

else:
    engine = create_engine(os.environ["DATABASE_URL"], pool_size=1, max_overflow=0)

floor_deferred_imports.end()  # init is over, as a function's ends

# The main query of each route, by its key in serverless.yml.
QUERIES = {
    "GET /api/tags": (
        "SELECT DISTINCT tags.name FROM tags "
        "JOIN article_tags ON article_tags.tag_id = tags.id ORDER BY tags.name"
    ),
    "GET /api/articles": (
        "SELECT articles.slug, articles.title, articles.description, articles.created_at, "
        "articles.author_id FROM articles "
        "ORDER BY articles.created_at DESC, articles.id DESC LIMIT 20"
    ),
    "GET /api/articles/feed": (
        "SELECT articles.slug, articles.title, articles.created_at FROM articles "
        "WHERE articles.author_id IN (SELECT followed_id FROM follows WHERE follower_id = 1) "
        "ORDER BY articles.created_at DESC, articles.id DESC LIMIT 20"
    ),
    "GET /api/articles/{slug}": (
        "SELECT articles.slug, articles.title, articles.body, users.username FROM articles "
        "JOIN users ON users.id = articles.author_id WHERE articles.slug = :slug"
    ),
    "GET /api/articles/{slug}/comments": (
        "SELECT comments.id, comments.body, users.username FROM comments "
        "JOIN users ON users.id = comments.author_id JOIN articles ON articles.id = "
        "comments.article_id WHERE articles.slug = :slug ORDER BY comments.created_at"
    ),
    "GET /api/profiles/{username}": (
        "SELECT username, bio, image FROM users WHERE username = :username"
    ),
}


# The main statement of each write route: what it must change, and nothing it reads back.
WRITES = {
    "POST /api/articles": (
        "INSERT INTO articles (slug, title, description, body, author_id, created_at, "
        "updated_at) VALUES (:new_slug, :title, :description, :body, :writer_id, :now, :now)"
    ),
    "PUT /api/articles/{slug}": (
        "UPDATE articles SET body = :body, updated_at = :now WHERE slug = :slug"
    ),
    "DELETE /api/articles/{slug}": "DELETE FROM articles WHERE slug = :slug",
    "POST /api/articles/{slug}/favorite": (
        "INSERT INTO favorites (user_id, article_id) "
        "VALUES (:writer_id, (SELECT id FROM articles WHERE slug = :slug))"
    ),
    "DELETE /api/articles/{slug}/favorite": (
        "DELETE FROM favorites WHERE user_id = :writer_id "
        "AND article_id = (SELECT id FROM articles WHERE slug = :slug)"
    ),
    "POST /api/profiles/{username}/follow": (
        "INSERT INTO follows (follower_id, followed_id) "
        "VALUES (:writer_id, (SELECT id FROM users WHERE username = :username))"
    ),
    "DELETE /api/profiles/{username}/follow": (
        "DELETE FROM follows WHERE follower_id = :writer_id "
        "AND followed_id = (SELECT id FROM users WHERE username = :username)"
    ),
    "POST /api/articles/{slug}/comments": (
        "INSERT INTO comments (body, article_id, author_id, created_at, updated_at) "
        "VALUES (:body, (SELECT id FROM articles WHERE slug = :slug), :writer_id, :now, :now)"
    ),
    "DELETE /api/articles/{slug}/comments/{comment_id}": (
        "DELETE FROM comments WHERE id = :comment_id"
    ),
    "PUT /api/user": "UPDATE users SET bio = :bio, updated_at = :now WHERE id = :writer_id",
}


def _write(event):
    values = dict(event.get("pathParameters") or {})
    for fields in json.loads(event.get("body") or "{}").values():
        values |= fields
    values |= {"writer_id": int(os.environ["BENCH_WRITER_ID"]),
               "now": datetime.now(UTC).replace(tzinfo=None)}  # fmt: skip
    if "title" in values:
        values["new_slug"] = re.sub(r"[^a-z0-9]+", "-", values["title"].lower()).strip("-")
    with engine.begin() as connection:
        changed = connection.execute(text(WRITES[event["routeKey"]]), values).rowcount
    if changed != 1:
        raise RuntimeError(f"{event['routeKey']}: {changed} rows changed, not 1")
    return {"statusCode": 200, "body": json.dumps(changed)}


def handler(event, context):
    if event["routeKey"] in WRITES:
        return _write(event)
    sql = text(QUERIES[event["routeKey"]])
    with engine.connect() as connection:
        rows = [
            list(map(str, row))
            for row in connection.execute(sql, event.get("pathParameters") or {})
        ]
    return {"statusCode": 200, "body": json.dumps(rows)}
