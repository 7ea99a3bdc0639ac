"""The API reference pages, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served from the package.

A self-hosted platform often runs where no CDN can be reached, so nothing of these pages comes
from outside: Swagger UI's and ReDoc's files are the ones the ``fastapi-offline`` package ships
(pinned, re-released with each Swagger UI and ReDoc release), served under ``/docs/vendor``; the
page's own start-up script is ours, under ``/docs/assets``, so the page needs no inline script.
"""
from __future__ import annotations

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

VENDOR = Path(fastapi_offline.__file__).parent / "static"
ASSETS = Path(__file__).parent / "static"
VENDOR_URL = "/docs/vendor"
ASSETS_URL = "/docs/assets"

_SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="icon" type="image/png" href="{vendor}/favicon.png">
<link rel="stylesheet" href="{vendor}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{openapi_url}"></div>
<script src="{vendor}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""


# The pages may load nothing from elsewhere, even what their libraries would fetch on their own
# (ReDoc's footer logo): a firewalled install shows the same page as one on the internet.
CSP = ("default-src 'self'; script-src 'self' blob:; worker-src 'self' blob:; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'")
HEADERS = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}


def install(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` for ``app``'s OpenAPI document, with their files from the package."""
    app.mount(VENDOR_URL, StaticFiles(directory=VENDOR), name="docs-vendor")
    app.mount(ASSETS_URL, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    async def swagger(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return HTMLResponse(_SWAGGER_PAGE.format(
            title=escape(f"{app.title} API reference"), vendor=root + VENDOR_URL, assets=root + ASSETS_URL,
            openapi_url=escape(root + (app.openapi_url or "/openapi.json"))), headers=HEADERS)

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        page = get_redoc_html(openapi_url=root + (app.openapi_url or "/openapi.json"),
                              title=f"{app.title} API reference", redoc_js_url=f"{root}{VENDOR_URL}/redoc.standalone.js",
                              redoc_favicon_url=f"{root}{VENDOR_URL}/favicon.png", with_google_fonts=False)
        page.headers.update(HEADERS)
        return page
