"""The WSGI entry: `flask --app legacy.wsgi run` locally, serverless-wsgi on Lambda.
The app is built once per process (per Lambda execution environment)."""

from app import init_finished
from legacy import create_app

app = create_app()
init_finished()
