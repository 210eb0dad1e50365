"""Provider adapters. Importing a module registers its adapter; add new providers to this list."""

from channels_app.adapters import api, telegram  # noqa: F401
