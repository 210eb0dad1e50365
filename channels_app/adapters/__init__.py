"""Provider adapters, one package per provider (`<provider>/__init__.py` registers the adapter; its helper
modules and `fixtures/` sit next to it). Every package and module here that is not support code is
imported on first use, so a new provider is one new package (see docs/adding-a-channel.md)."""

import importlib
import pkgutil

_SUPPORT_MODULES = {"base", "http", "payloads"}

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _SUPPORT_MODULES and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
