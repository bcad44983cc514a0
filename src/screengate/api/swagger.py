"""The API's documentation page at /docs: Swagger UI served whole from this package.

Litestar's SwaggerRenderPlugin loads Swagger UI's script and stylesheet (and a favicon) from a
CDN, so the page was blank without the internet. Here they come from the swagger-ui-py
package's copy of swagger-ui-dist, and the page starts Swagger UI from a script file of ours
(no inline script) on the OpenAPI document the JSON plugin serves.
"""

from __future__ import annotations

import html
import importlib.util
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, Router, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import OpenAPIRenderPlugin
from litestar.params import PathParameter
from litestar.response import File

ASSETS = "/assets"
OWN = Path(__file__).parent / "static"
# Served by name, nothing else from either folder: Swagger UI's bundle and stylesheet, and
# the script that starts it.
JS, CSS = "text/javascript", "text/css"  # Litestar adds the charset
FILES = {
    "swagger-ui-bundle.js": ("swagger_ui", JS),
    "swagger-ui.css": ("swagger_ui", CSS),
    "docs.js": ("own", JS),
}
CACHE_SECONDS = 24 * 60 * 60  # a day; a new release brings new files under the same names


class OfflineSwagger(OpenAPIRenderPlugin):
    """Swagger UI at the OpenAPI router's path, with every file it needs served beside it."""

    def __init__(self, path: str = "/") -> None:
        super().__init__(path=path, favicon="", style="")

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema["info"]["title"]))
        spec = html.escape(self.get_openapi_json_route(request))
        assets = html.escape(_assets_url(request))
        return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
<script src="{assets}/swagger-ui-bundle.js" defer></script>
<script src="{assets}/docs.js" defer></script>
</head>
<body>
<main id="swagger-ui" data-spec="{spec}"><p>Loading the {title} API reference…</p></main>
</body>
</html>
""".encode()

    def receive_router(self, router: Router) -> None:
        router.register(asset)


@get(f"{ASSETS}/{{name:str}}", include_in_schema=False, sync_to_thread=False)
def asset(name: Annotated[str, PathParameter(max_length=64)]) -> File:
    """One of the page's files, by name."""
    if name not in FILES:
        raise NotFoundException()
    source, media_type = FILES[name]
    folder = OWN if source == "own" else _swagger_ui()
    return File(
        folder / name,
        media_type=media_type,
        content_disposition_type="inline",
        headers={"Cache-Control": f"public, max-age={CACHE_SECONDS}"},
    )


def _assets_url(request: Request[Any, Any, Any]) -> str:
    config = request.app.openapi_config
    return (config.path or "" if config else "").rstrip("/") + ASSETS


@cache
def _swagger_ui() -> Path:
    # Found, not imported: the package's __init__ sets up web-framework handlers we do not use.
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("swagger-ui-py is not installed (it is in requirements.lock)")
    return Path(next(iter(spec.submodule_search_locations))) / "static"
