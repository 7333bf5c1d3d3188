"""Secrets read at run time from AWS Secrets Manager (Powertools parameters, cached).

Deployed stages never carry a secret in the template or a plain environment value:
they carry the secret's *name*, and the value is fetched once per execution
environment at start, then cached.
"""

from __future__ import annotations

SECRET_CACHE_SECONDS = 300


def fetch_secret(name: str) -> str:
    from aws_lambda_powertools.utilities import parameters

    value = parameters.get_secret(name, max_age=SECRET_CACHE_SECONDS)
    if isinstance(value, bytes):
        return value.decode()
    return str(value)
