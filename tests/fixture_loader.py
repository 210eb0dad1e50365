"""Provider fixtures, which live with their adapter: channels_app/adapters/<provider>/fixtures/.

Every test reads them through here, by provider and file name (a name may include a sub-folder such as
"api/getMe__ok.json"); tests/channels/test_fixtures_used.py checks that each file is named by a test.
"""

from __future__ import annotations

from pathlib import Path

import channels_app.adapters

ADAPTERS = Path(channels_app.adapters.__file__).resolve().parent


def fixture_dir(provider: str) -> Path:
    return ADAPTERS / provider / "fixtures"


def fixture_path(provider: str, name: str) -> Path:
    path = fixture_dir(provider) / name
    if not path.is_file():
        raise FileNotFoundError(f"no fixture {name!r} for provider {provider!r} (looked at {path})")
    return path


def load_fixture(provider: str, name: str) -> bytes:
    return fixture_path(provider, name).read_bytes()


def fixture_names(provider: str, suffix: str = "") -> list[str]:
    """The files directly in the provider's fixtures folder (not its sub-folders), by name."""
    return sorted(p.name for p in fixture_dir(provider).iterdir() if p.is_file() and p.name.endswith(suffix))


def all_fixture_files() -> dict[str, list[Path]]:
    """provider → every fixture file of its adapter package, sub-folders included."""
    return {
        package.name: sorted(p for p in (package / "fixtures").rglob("*") if p.is_file())
        for package in sorted(ADAPTERS.iterdir())
        if (package / "fixtures").is_dir()
    }
