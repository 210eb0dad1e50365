from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.decorators import login_required, permission_required


def requires(permission: str) -> Callable:
    """Anonymous visitors go to the login page; signed-in users without the permission get 403.

    (Django's permission_required alone either redirects everyone, which loops for a signed-in user, or
    answers 403 to anonymous visitors too.)
    """

    def decorator(view: Callable) -> Callable:
        return login_required(permission_required(permission, raise_exception=True)(view))

    return decorator
