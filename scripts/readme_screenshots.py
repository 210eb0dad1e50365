"""Take the README's pictures of the product from a fresh `make run`.

Starts `manage.py serve --setup` with no DATABASE_URL/REDIS_URL and a new, empty data folder (exactly
what a newcomer gets), signs in as the demo manager and photographs the pages in Chromium at 1280x720.
The widget and e-mail pictures show other people's pages and stay with the browser tests.

    .venv/bin/python scripts/readme_screenshots.py            # writes docs/img/
    .venv/bin/python scripts/readme_screenshots.py --out /tmp/shots --language pl
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.embedded_stack import Stack  # noqa: E402

DEMO_MANAGER = "demo.sarah.mitchell"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip


def _first_href(page, pattern: str) -> str:
    for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))"):
        if re.fullmatch(pattern, href or ""):
            return href
    raise RuntimeError(f"no link matching {pattern} on {page.url}")


def shoot(base: str, out: Path, language: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    taken: list[Path] = []
    executable = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 720}, locale=language)
        page = context.new_page()
        page.set_default_timeout(30_000)
        page.goto(f"{base}/accounts/login/")
        page.fill("input[name=username]", DEMO_MANAGER)
        page.fill("input[name=password]", "cxm-demo")
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")

        def save(name: str, path: str) -> None:
            page.goto(f"{base}{path}")
            page.wait_for_load_state("networkidle")
            target = out / name
            page.screenshot(path=str(target))
            taken.append(target)

        save("inbox.png", "/inbox/")
        save("inbox-breached.png", "/inbox/?status=open&sla_state=breached")
        save("conversation.png", _first_href(page, r"/inbox/\d+/"))
        page.goto(f"{base}/customers/")
        save("profile.png", _first_href(page, r"/customers/\d+/"))
        page.goto(f"{base}/surveys/")
        survey = _first_href(page, r"/surveys/\d+/")
        save("survey-detail.png", survey)
        page.goto(f"{base}{survey}")
        follow_ups = [
            href
            for href in page.eval_on_selector_all(
                "[data-testid=open-loops] a[href]", "els => els.map(e => e.getAttribute('href'))"
            )
            if re.fullmatch(r"/inbox/\d+/", href or "")
        ]
        if follow_ups:
            save("follow-up.png", follow_ups[0])
        browser.close()
    return taken


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "img")
    parser.add_argument("--language", default="en-US")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cxm-shots-") as scratch:
        stack = Stack(Path(scratch) / "data", Path(scratch) / "serve.log").start()
        try:
            for path in shoot(stack.base, args.out, args.language):
                print(path)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
