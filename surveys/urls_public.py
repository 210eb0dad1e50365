from django.urls import path, re_path

from surveys import views_public

app_name = "survey_public"

# Tokens are 43 characters (secrets.token_urlsafe(32)); requiring 20+ keeps these patterns from
# catching the short prefixes mounted next to them ("l/" here, "w/" for the widget).
TOKEN = r"(?P<token>[A-Za-z0-9_-]{20,64})"  # noqa: S105 - a URL pattern, not a secret

urlpatterns = [
    path("l/<str:public_key>/", views_public.share, name="share"),
    path("l/<str:public_key>/qr.svg", views_public.share_qr, name="share_qr"),
    re_path(rf"^{TOKEN}/$", views_public.answer, name="answer"),
    re_path(rf"^{TOKEN}/opt-out/$", views_public.opt_out, name="opt_out"),
    re_path(rf"^{TOKEN}/(?P<score>[^/]{{1,12}})/$", views_public.one_click, name="one_click"),
]
