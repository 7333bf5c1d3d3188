"""The API behaviour tests reach whoever owns each route in serverless.yml."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from app.deploy.registry import load_registry
from tests.conftest import Actions
from tests.routing import RoutedClient

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


def test_a_retired_monolith_view_leaves_the_behaviour_tests_standing(
    app: Flask, client: RoutedClient, actions: Actions, monkeypatch: pytest.MonkeyPatch
) -> None:
    tags_owner = REGISTRY.owner("GET", "/api/tags")
    assert tags_owner is not None and tags_owner.module is not None
    jake = actions.register()
    actions.article(jake, tagList=["dragons"])
    endpoint = next(r.endpoint for r in app.url_map.iter_rules() if r.rule == "/api/tags")

    def retired() -> Any:
        raise AssertionError("the monolith's view was called")

    monkeypatch.setitem(app.view_functions, endpoint, retired)
    response = client.get("/api/tags")
    assert response.status_code == 200
    assert response.json == {"tags": ["dragons"]}
