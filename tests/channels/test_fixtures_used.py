"""Every fixture file in every adapter package is named by at least one test.

Static on purpose: under pytest-xdist each worker sees only its share of the tests, so recording which
files were loaded at the end of a session would miss the others' and report fixtures as unused.
"""

from __future__ import annotations

from pathlib import Path

from tests.fixture_loader import ADAPTERS, all_fixture_files

TESTS = Path(__file__).resolve().parent.parent


def _test_sources() -> dict[Path, str]:
    return {path: path.read_text(encoding="utf-8") for path in TESTS.rglob("*.py")}


def _named(provider: str, fixture: Path, sources: dict[Path, str]) -> bool:
    """The file name, quoted, in a test module about this provider (one that names it in a string or
    in its own file name): names such as garbage__not_json.json exist for several providers."""
    quoted = (f'"{fixture.name}"', f"'{fixture.name}'")
    return any(
        any(q in text for q in quoted) and (f'"{provider}"' in text or provider in path.name)
        for path, text in sources.items()
    )


def unused_fixtures(sources: dict[Path, str], fixtures: dict[str, list[Path]]) -> list[str]:
    return [
        str(path.relative_to(ADAPTERS))
        for provider, files in fixtures.items()
        for path in files
        if not _named(provider, path, sources)
    ]


def test_every_provider_package_has_fixtures():
    assert set(all_fixture_files()) == {"api", "email", "meta", "telegram", "twilio"}


def test_every_fixture_file_is_named_by_a_test():
    assert unused_fixtures(_test_sources(), all_fixture_files()) == []


def test_a_fixture_no_test_names_is_reported():
    # Built, not written out, so that this module does not name it; and not put on disk, where a
    # parallel worker running the test above would find it.
    name = "_".join(("message", "", "nobody", "reads", "this.json"))
    fixtures = all_fixture_files()
    fixtures["telegram"].append(ADAPTERS / "telegram" / "fixtures" / name)
    assert unused_fixtures(_test_sources(), fixtures) == [f"telegram/fixtures/{name}"]
