"""Routes of one conversation (view, reply, notes, assignment …), under /inbox/."""

urlpatterns: list = []
