"""The API reference pages work offline: everything they load comes from the platform itself."""
from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

PAGES = ("/docs", "/redoc")


class _References(HTMLParser):
    """Every URL a page loads or links to: scripts, styles, icons, images, frames."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value and name in ("src", "href", "data-openapi-url", "spec-url"):
                self.urls.append(value)


def _references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


@pytest.mark.parametrize("page", PAGES)
def test_a_reference_page_loads_only_what_the_platform_serves(platform, page):
    r = platform.http.get(page)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<script>" not in r.text  # no inline script: the page starts from a served file
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "img-src 'self' data:" in csp and "unsafe-inline" not in csp.split(
        "script-src", 1)[1].split(";", 1)[0]
    urls = _references(r.text)
    assert any(u.endswith(".js") for u in urls) and "/openapi.json" in urls, urls
    for url in urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), f"{page} loads {url} from elsewhere"
        asset = platform.http.get(url)
        assert asset.status_code == 200 and len(asset.content) > 100, url
    kinds = {urlsplit(u).path.rsplit(".", 1)[-1]: platform.http.get(u).headers["content-type"] for u in urls}
    assert kinds["js"].split(";")[0] in ("text/javascript", "application/javascript")
    if page == "/docs":
        assert kinds["css"].startswith("text/css")


@pytest.mark.browser
def test_swagger_ui_and_redoc_render_with_every_outside_request_refused(platform, browser):
    outside: list[str] = []

    def only_the_platform(route) -> None:  # noqa: ANN001
        if route.request.url.startswith(platform.url) or route.request.url.startswith(("blob:", "data:")):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context = browser.new_context(base_url=platform.url)
    try:
        context.set_default_timeout(15_000)
        context.route("**/*", only_the_platform)
        page = context.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto("/docs")
        page.wait_for_selector(".opblock-summary-path")
        assert page.locator(".opblock").count() >= 25
        assert page.locator("text=Decide an entry").count() >= 1
        page.goto("/redoc")
        page.locator("h2", has_text="Decide an entry").first.wait_for()
        # The only complaint allowed: the policy refusing what a library would fetch from elsewhere.
        assert all("Content Security Policy" in e for e in errors), errors
    finally:
        context.close()
    assert not outside, outside
