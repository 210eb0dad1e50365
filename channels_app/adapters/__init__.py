"""Provider adapters. Every module in this package that registers an adapter is imported here, so a new
provider is one new file (see docs/adding-a-channel.md)."""

import importlib
import pkgutil

_SUPPORT_MODULES = {"base", "http", "payloads"}

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _SUPPORT_MODULES and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
