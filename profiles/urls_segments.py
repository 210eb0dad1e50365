"""Routes for segments (see profiles/urls_tools.py)."""

urlpatterns: list = []
