"""The floor: the least a handler for a route could do. It imports only SQLAlchemy, the
database driver and the IAM token signer, connects the way production does (on MariaDB
the token is the password of each new connection), runs the route's main query and
returns the rows as JSON. No framework, no auth check, no shaping: what no dedicated
function can beat.

The signer is this checkout's app/platform/rds_iam.py, copied next to this file as
`floor_rds_iam` (standard library only), so the floor stays the same whichever package
is measured."""

import json
import os

import floor_rds_iam
from sqlalchemy import create_engine, event, text

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


def handler(event, context):
    sql = text(QUERIES[event["routeKey"]])
    with engine.connect() as connection:
        rows = [
            list(map(str, row))
            for row in connection.execute(sql, event.get("pathParameters") or {})
        ]
    return {"statusCode": 200, "body": json.dumps(rows)}
