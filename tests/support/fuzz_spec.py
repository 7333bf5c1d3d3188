"""The RealWorld OpenAPI spec (`../shared/realworld/openapi.yml`) as this API is checked
against it, with every deviation from the spec recorded here, once, with its reason.

Each deviation is where the spec is silent or contradicts the RealWorld documentation
beside it (`../shared/realworld/docs/`); the API follows the documentation. The checks
themselves are never relaxed: the fuzz test validates every answer against the spec as
amended here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REALWORLD = Path(__file__).resolve().parents[2].parent / "shared" / "realworld"
OPENAPI = REALWORLD / "openapi.yml"

Spec = dict[str, Any]
HTTP_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


@dataclass(frozen=True)
class Deviation:
    what: str
    reason: str
    apply: Callable[[Spec], None]


def _nullable_image(spec: Spec) -> None:
    for schema in ("User", "Profile"):
        spec["components"]["schemas"][schema]["properties"]["image"] = {"type": ["string", "null"]}


def _operations(spec: Spec) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    ]


def _error(spec: Spec, description: str) -> dict[str, Any]:
    generic = spec["components"]["responses"]["GenericError"]
    return {**generic, "description": description}


def _not_found(spec: Spec) -> None:
    for path, _method, operation in _operations(spec):
        if "{" in path:
            operation["responses"].setdefault("404", _error(spec, "Not found"))


def _forbidden(spec: Spec) -> None:
    owned = {("/articles/{slug}", "put"), ("/articles/{slug}", "delete"),
             ("/articles/{slug}/comments/{id}", "delete")}  # fmt: skip
    for path, method, operation in _operations(spec):
        if (path, method) in owned:
            operation["responses"].setdefault("403", _error(spec, "Forbidden"))


DEVIATIONS = [
    Deviation(
        "`image` of a user and of a profile may be null",
        "openapi.yml types it as a string, but docs/api-response-format.md answers a user "
        'without one with `"image": null`, which the API does',
        _nullable_image,
    ),
    Deviation(
        "an operation on a resource named in its path (slug, username, comment id) may "
        "answer 404 in the error format",
        "openapi.yml lists no 404, but docs/error-handling.md says 404 is the answer when "
        "a resource can't be found",
        _not_found,
    ),
    Deviation(
        "updating or deleting another author's article, or deleting another author's "
        "comment, may answer 403 in the error format",
        "openapi.yml lists no 403, but docs/error-handling.md says 403 is the answer when "
        "the user does not have permission for the action",
        _forbidden,
    ),
]


def amended_spec() -> Spec:
    """The spec with every deviation applied."""
    spec: Spec = yaml.safe_load(OPENAPI.read_text(encoding="utf-8"))
    for deviation in DEVIATIONS:
        deviation.apply(spec)
    return spec
