"""The API behaviour tests reach whoever owns each route in serverless.yml."""

from __future__ import annotations

from typing import Any

import pytest

from app.deploy.registry import Route, load_registry
from tests.support.api import Actions
from tests.support.routing import RoutedClient

REGISTRY = load_registry()
SAMPLE = {"slug": "no-such-article", "username": "nobody", "id": "1", "comment_id": "1"}


def _path(route: Any) -> str:
    path = route.path
    for name in route.parameters:
        path = path.replace("{" + name + "}", SAMPLE[name])
    return str(path)


@pytest.mark.parametrize("function", REGISTRY.switched, ids=[f.name for f in REGISTRY.switched])
def test_a_switched_route_is_served_by_its_function(client: RoutedClient, function: Any) -> None:
    client.open(_path(function.route), method=function.route.method)
    assert client.served_by == [function.name]


def test_other_routes_are_served_by_the_monolith(client: RoutedClient) -> None:
    client.post("/api/users/login", json={})
    client.get("/api/user")  # pinned: its own function, but still the monolith's code
    client.get("/api/no-such-route")  # no route of its own: the catch-all
    assert client.served_by == ["monolith"] * 3


def test_a_retired_route_is_served_by_its_function_alone(
    client: RoutedClient, monolith_client: Any, actions: Actions
) -> None:
    """GET /api/tags is retired: the monolith has no view for it any more (a 404 there),
    and the behaviour tests reach its function."""
    assert Route.parse("GET /api/tags") in REGISTRY.declared("retired")
    owner = REGISTRY.owner("GET", "/api/tags")
    assert owner is not None and owner.module is not None
    assert monolith_client.get("/api/tags").status_code == 404
    jake = actions.register()
    actions.article(jake, tagList=["dragons"])
    response = client.get("/api/tags")
    assert response.status_code == 200
    assert response.json == {"tags": ["dragons"]}
    assert client.served_by[-1] == owner.name
