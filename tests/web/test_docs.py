"""The API's documentation page (/docs) works offline: every file it needs is served here."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import httpx
import pytest
from playwright.sync_api import Route, expect

from tests.support.live_server import LiveServer
from tests.web.conftest import NewDevice

ASSET = re.compile(r'(?:src|href)="([^"]+)"')
MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css"}
SWAGGER_UI_SECONDS = 30


def test_the_docs_page_names_only_files_of_this_server_and_each_is_served(
    api: httpx.Client,
) -> None:
    page = api.get("/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert not re.search(r"https?://", page.text), "nothing from another host"
    assert '<html lang="en">' in page.text
    assert "<main" in page.text
    assert "<script>" not in page.text  # no inline script: the page's own is a file

    assets = ASSET.findall(page.text)
    assert len(assets) == 3, assets  # Swagger UI's bundle and stylesheet, and docs.js
    for path in assets:
        assert path.startswith("/docs/"), path
        answer = api.get(path)
        assert answer.status_code == 200, path
        suffix = path[path.rindex(".") :]
        assert answer.headers["content-type"].startswith(MEDIA_TYPES[suffix]), path
        assert len(answer.content) > 100, path


@pytest.mark.parametrize("name", ["swagger-editor-bundle.js", "index.css", "..%2F__init__.py"])
def test_only_the_pages_own_files_are_served_from_the_assets_folder(
    api: httpx.Client, name: str
) -> None:
    assert api.get(f"/docs/assets/{name}").status_code == 404


@pytest.mark.browser
def test_the_docs_page_shows_the_operations_with_the_network_cut_off(
    server: LiveServer, new_device: NewDevice
) -> None:
    laptop = new_device()
    elsewhere: list[str] = []

    def only_this_server(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    laptop.context.route("**/*", only_this_server)
    # Swagger UI is 1.5 MB of script: on a busy machine it takes longer than a page of ours.
    laptop.context.set_default_timeout(SWAGGER_UI_SECONDS * 1000)
    page = laptop.open("/docs")
    expect(page.locator(".opblock-summary-path[data-path='/v1/auth/sign-in']")).to_be_visible(
        timeout=SWAGGER_UI_SECONDS * 1000
    )
    expect(page.locator(".opblock")).not_to_have_count(0)
    expect(page.get_by_role("main")).to_be_visible()
    laptop.shot("docs-offline")
    assert elsewhere == []
