"""The sample events, their loader, and the function modules they are for."""

from __future__ import annotations

import pytest

from app.platform.lambda_http import Runtime
from tests.support.events import event_names, load_event
from tests.support.functions import FUNCTIONS, Function, import_function


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda function: function.name)
def test_every_function_has_a_sample_event_on_its_route(function: Function) -> None:
    event = load_event(function.event)
    assert event["version"] == "2.0"
    assert event["routeKey"] == event["requestContext"]["routeKey"] == function.route
    method, _, path = function.route.partition(" ")
    assert event["requestContext"]["http"]["method"] == method
    assert len(event["rawPath"].split("/")) == len(path.split("/"))
    assert function.module.startswith("app.functions.")


def test_every_sample_event_belongs_to_a_function() -> None:
    routes = {function.route for function in FUNCTIONS}
    assert {load_event(name)["routeKey"] for name in event_names()} <= routes


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda function: function.name)
def test_function_module_shape(function: Function) -> None:
    module = import_function(function.name)
    assert callable(module.handler)
    assert module.ROUTE.key == function.route
    assert isinstance(module.runtime, Runtime)


def test_load_event_returns_a_fresh_copy() -> None:
    first = load_event("get_article")
    first["headers"]["x-mutated"] = "yes"
    first["requestContext"]["http"]["method"] = "POST"
    second = load_event("get_article")
    assert "x-mutated" not in second["headers"]
    assert second["requestContext"]["http"]["method"] == "GET"


def test_raw_path_override_keeps_the_event_consistent() -> None:
    event = load_event("list_comments", rawPath="/api/articles/caf%C3%A9%20au%20lait/comments")
    assert event["requestContext"]["http"]["path"] == "/api/articles/café au lait/comments"
    assert event["pathParameters"] == {"slug": "café au lait"}


def test_raw_query_string_override_joins_repeated_keys_like_api_gateway() -> None:
    event = load_event("list_articles", rawQueryString="tag=a&tag=b%20c&limit=")
    assert event["rawQueryString"] == "tag=a&tag=b%20c&limit="
    assert event["queryStringParameters"] == {"tag": "a,b c", "limit": ""}
    assert "queryStringParameters" not in load_event("list_articles", rawQueryString="")


def test_headers_override_merges_and_removes() -> None:
    event = load_event("feed", headers={"Authorization": None, "X-Custom": "1"})
    assert "authorization" not in event["headers"]
    assert event["headers"]["x-custom"] == "1"
    assert event["headers"]["host"] == load_event("feed")["headers"]["host"]


def test_unknown_event_names_the_known_ones() -> None:
    with pytest.raises(FileNotFoundError, match="get_article"):
        load_event("no_such_event")
