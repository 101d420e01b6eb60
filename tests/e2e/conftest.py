"""Real-browser tests (DESIGN.md §8): Playwright for Python driving Debian's Chromium against
pytest-django's live server.

Every page opened through `pages`/`page` fails its test on a browser console error or an
uncaught page error, and a failing test leaves a screenshot and the page's HTML in
tests/e2e/artifacts/. Confirmation dialogs (`data-confirm`) are accepted, as a person
clicking "OK" would, and their messages are kept in `dialogs` on the page.
"""

import re
from pathlib import Path

import pytest
from django.db import connections
from playwright.sync_api import Page, expect, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

expect.set_options(timeout=10_000)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def browser(live_server, monkeypatch):
    """A headless Chromium for one test. Depends on live_server so the database outlives it.

    Playwright's sync API keeps an asyncio loop in this thread, which makes Django refuse ORM
    calls here; the test's own ORM calls (fixture data, checks) are plain synchronous code, so
    that check is off for the test."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (CI installs it).")
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"], headless=True
        )
        yield chromium
        chromium.close()
        # ORM calls made while Playwright's loop runs get their own connections (Django keeps
        # connections per context): close them, or PostgreSQL cannot drop the test database.
        connections.close_all()


class Pages:
    """Opens pages, each in its own browser context (its own cookies: its own person)."""

    def __init__(self, browser, base_url):
        self.browser = browser
        self.base_url = base_url
        self.opened: list[tuple[str, Page, list[str]]] = []

    def new(self, name="page") -> Page:
        context = self.browser.new_context(base_url=self.base_url)
        context.set_default_timeout(10_000)
        page = context.new_page()
        problems: list[str] = []
        page.on(
            "console",
            lambda msg: (
                problems.append(f"console {msg.text} at {msg.location}")
                if msg.type == "error"
                else None
            ),
        )
        page.on("pageerror", lambda exc: problems.append(f"page error {exc}"))
        page.dialogs = []

        def accept(dialog):
            page.dialogs.append(dialog.message)
            dialog.accept()

        page.on("dialog", accept)
        self.opened.append((name, page, problems))
        return page

    def save_artifacts(self, test_name):
        ARTIFACTS.mkdir(exist_ok=True)
        stem = re.sub(r"[^\w.-]+", "_", test_name)
        for name, page, _ in self.opened:
            if page.is_closed():
                continue
            page.screenshot(path=ARTIFACTS / f"{stem}-{name}.png", full_page=True)
            (ARTIFACTS / f"{stem}-{name}.html").write_text(page.content())


@pytest.fixture
def pages(browser, live_server, request):
    opened = Pages(browser, live_server.url)
    yield opened
    problems = [f"{name}: {p}" for name, _, found in opened.opened for p in found]
    failed = getattr(request.node, "report_call", None)
    if problems or (failed is not None and failed.failed):
        opened.save_artifacts(request.node.name)
    for _, page, _ in opened.opened:
        page.context.close()
    assert not problems, "browser errors:\n" + "\n".join(problems)


@pytest.fixture
def page(pages) -> Page:
    return pages.new()
