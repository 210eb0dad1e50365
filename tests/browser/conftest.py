"""Real Chromium through Playwright, against pytest-django's live server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make are still
# plain synchronous code, so Django's async-safety guard would only get in the way here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-results"


@pytest.fixture(scope="session")
def chromium_browser():
    from playwright.sync_api import sync_playwright

    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not os.path.exists(executable):
        pytest.fail(f"Chromium not found at {executable}; `make test` installs it, or set CHROMIUM_PATH.")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser, request):
    context = chromium_browser.new_context(viewport={"width": 1280, "height": 720}, locale="en-US")
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield page
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


def screenshot_path(name: str) -> Path:
    """Where a test saves a page picture: test-results/, so a test run never changes tracked files;
    with CXM_UPDATE_SCREENSHOTS=1, a picture the README already shows is refreshed in docs/img instead
    (the demo-workspace pictures there come from scripts/readme_screenshots.py, not from tests)."""
    readme_copy = Path(__file__).resolve().parents[2] / "docs" / "img" / name
    if os.environ.get("CXM_UPDATE_SCREENSHOTS") == "1" and readme_copy.exists():
        return readme_copy
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name


@pytest.fixture
def server(transactional_db, tmp_path) -> Iterator[str]:
    """uvicorn serving the app, as in production. Request it before `page`."""
    from django.conf import settings

    from tests.browser.asgi_server import asgi_server
    from tests.workers import free_port

    with asgi_server(port=free_port(), redis_url=settings.REDIS_URL, log=tmp_path / "server.log") as base:
        yield base


@pytest.fixture
def stack(transactional_db, tmp_path) -> Iterator[str]:
    """uvicorn and a real Celery worker. Request it before `page`, so the screenshot the page fixture
    takes at teardown still shows a live page."""
    from django.conf import settings

    from tests.browser.asgi_server import asgi_server
    from tests.workers import celery_worker, free_port

    log = tmp_path / "services.log"
    with (
        asgi_server(port=free_port(), redis_url=settings.REDIS_URL, log=log) as base,
        celery_worker(redis_url=settings.REDIS_URL, log=log),
    ):
        yield base
