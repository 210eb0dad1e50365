from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts")

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.mfa_login import on_user_logged_in

        user_logged_in.connect(on_user_logged_in, dispatch_uid="accounts.mfa_login.on_user_logged_in")

        from accounts.revocation import connect_receivers

        connect_receivers()
