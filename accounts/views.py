from django.contrib.auth import views as auth_views
from django.shortcuts import render
from django.utils.translation import check_for_language
from django.views import i18n
from django.views.decorators.http import require_POST

from accounts import roles
from accounts.decorators import requires
from accounts.mfa_login import TwoStepLoginMixin
from accounts.selectors import teams_for_settings, users_for_settings
from accounts.services import do_set_language


class LoginView(TwoStepLoginMixin, auth_views.LoginView):
    template_name = "accounts/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


@require_POST
def set_language(request):
    """Django's switcher (cookie + redirect) that also remembers the choice on the user's account."""
    response = i18n.set_language(request)
    language = request.POST.get("language", "")
    if request.user.is_authenticated and check_for_language(language):
        do_set_language(user=request.user, language=language)
    return response


@requires(roles.MANAGE_SETTINGS)
def settings_home(request):
    return render(
        request,
        "accounts/settings.html",
        {"users": users_for_settings(), "teams": teams_for_settings(), "section": "general"},
    )
