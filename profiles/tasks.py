"""Celery discovers tasks here; each tool keeps its tasks in its own module."""

from profiles.import_tasks import *  # noqa: F403
from profiles.privacy_tasks import *  # noqa: F403
