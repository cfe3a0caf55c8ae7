"""The offline check in a real browser: each page loaded in headless chromium, network blocked.

Playwright's Python package drives Debian's chromium (``executable_path``; no browser
download). Every request a page makes is routed: the page's own file and ``data:``/``blob:``
URLs go through, anything else is aborted and recorded, as are WebSockets. The page is
loaded from its ``file://`` URL and waited on until load, network idle and a short settle (a
``<meta http-equiv=refresh>`` fires then). A page is offline when nothing was recorded.

Used by the test suite on the trick corpus and the real report pages, and by
``tierlib report`` when the config says ``browser_check: true``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["chromium", "launch", "blocked_requests", "check_pages"]


def chromium() -> str | None:
    """Path of Debian's chromium binary, or None when it is not installed.

    >>> chromium() is None or Path(chromium()).is_file()
    True
    """
    return shutil.which("chromium") or shutil.which("chromium-browser")


@contextmanager
def launch() -> Iterator[Any]:
    """A headless chromium (Playwright ``Browser``), closed at the end of the block."""
    from playwright.sync_api import sync_playwright

    binary = chromium()
    if binary is None:
        raise RuntimeError("chromium is not installed (Debian: apt-get install chromium, or make browser)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=binary, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--host-resolver-rules=MAP * ~NOTFOUND"])
        try:
            yield browser
        finally:
            browser.close()


def blocked_requests(browser: Any, page: str | Path, *, settle_ms: int = 300) -> list[str]:
    """Every request ``page`` made beyond its own file and ``data:``/``blob:`` URLs (all aborted).

    The page is shown at device scale 2, so an ``srcset``'s ``2x`` candidate is the one fetched.
    """
    own = Path(page).resolve().as_uri()
    blocked: list[str] = []

    def note(url: str) -> None:
        if url != own and not url.startswith(("data:", "blob:")) and url not in blocked:
            blocked.append(url)

    def route(r: Any) -> None:
        url = r.request.url
        if url == own or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            note(url)
            r.abort()

    context = browser.new_context(device_scale_factor=2, service_workers="block", java_script_enabled=True)
    try:
        context.route("**/*", route)
        tab = context.new_page()
        tab.on("request", lambda req: note(req.url))
        tab.on("websocket", lambda ws: note(ws.url))
        try:
            tab.goto(own, wait_until="load", timeout=30_000)
            tab.wait_for_load_state("networkidle", timeout=10_000)
        except Exception as exc:  # a refresh or frame navigating away mid-load: what it asked for is recorded
            from playwright.sync_api import Error

            if not isinstance(exc, Error):
                raise
        tab.wait_for_timeout(settle_ms)
    finally:
        context.close()
    return blocked


def check_pages(pages: Iterable[str | Path]) -> dict[str, str]:
    """Page file name -> one line, for each page that made a request it should not have.

    One browser for all pages, driven from a thread of its own (Playwright's sync API refuses
    to run where an asyncio loop is running, as in a notebook or under papermill); an empty
    dict when every page is offline.
    """
    import threading

    problems: dict[str, str] = {}
    failure: list[BaseException] = []

    def work() -> None:
        try:
            with launch() as browser:
                for page in pages:
                    blocked = blocked_requests(browser, page)
                    if blocked:
                        more = f" (and {len(blocked) - 1} more)" if len(blocked) > 1 else ""
                        problems[Path(page).name] = (f"{Path(page).name} requested {blocked[0]} in headless "
                                                     f"chromium with the network blocked{more}")
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)

    pages = list(pages)
    thread = threading.Thread(target=work, name="tierlib-browser-check")
    thread.start()
    thread.join()
    if failure:
        raise failure[0]
    return problems
