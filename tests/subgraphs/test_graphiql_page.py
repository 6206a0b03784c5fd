"""A subgraph's GraphiQL is the offline bundle, not Strawberry's CDN page; no favicon 404."""

from __future__ import annotations

import html
import json

from tests.subgraphs.conftest import RunningSubgraph


def test_a_browser_gets_the_offline_graphiql_bundle(
    subgraphs: dict[str, RunningSubgraph],
) -> None:
    subgraph = subgraphs["kesehatan"]
    page = subgraph.client.get(subgraph.url, headers={"accept": "text/html"})
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<script src="/graphiql/graphiql.js"></script>' in page.text
    assert "http" not in page.text.replace('content="width=device-width', "")  # no CDN URL
    start = page.text.index('data-config="') + len('data-config="')
    config = json.loads(html.unescape(page.text[start : page.text.index('"', start)]))
    assert config == {"mode": "subgraph", "catalogue_url": None, "dev_tokens": False}
    origin = subgraph.url.removesuffix("/graphql")
    script = subgraph.client.get(f"{origin}/graphiql/graphiql.js")
    assert script.status_code == 200 and script.headers["content-type"].startswith(
        "text/javascript"
    )
    icon = subgraph.client.get(f"{origin}/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    # JSON clients still get GraphQL
    answer = subgraph.client.post(subgraph.url, json={"query": "{ __typename }"})
    assert answer.json() == {"data": {"__typename": "Query"}}
