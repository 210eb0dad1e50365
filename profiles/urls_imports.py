"""Routes for imports (see profiles/urls_tools.py)."""

urlpatterns: list = []
