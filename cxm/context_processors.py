from django.conf import settings

from accounts import roles


def shell(request):
    """What the application shell needs on every page: navigation rights and the runtime mode."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"embedded_mode": settings.EMBEDDED}
    perms = user.get_all_permissions()
    return {
        "embedded_mode": settings.EMBEDDED,
        "nav": {
            "inbox": roles.WORK_INBOX in perms,
            "customers": roles.VIEW_CUSTOMERS in perms,
            "surveys": roles.VIEW_SURVEYS in perms,
            "dashboards": roles.VIEW_DASHBOARDS in perms,
            "settings": roles.MANAGE_SETTINGS in perms,
        },
    }
