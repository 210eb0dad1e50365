"""Authentication backend that grants permissions from the user's role."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from accounts.roles import ALL_PERMISSIONS, ROLE_PERMISSIONS


class RoleBackend(ModelBackend):
    def get_role_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if user_obj.is_superuser:
            return set(ALL_PERMISSIONS)
        return set(ROLE_PERMISSIONS.get(getattr(user_obj, "role", ""), ()))

    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return super().get_all_permissions(user_obj, obj) | self.get_role_permissions(user_obj)

    def has_perm(self, user_obj: Any, perm: str, obj: Any = None) -> bool:
        # The role answers most checks (every view asks one or two) without the two permission
        # queries Django's model backend makes; those run only for what the role does not grant.
        if perm in self.get_role_permissions(user_obj, obj):
            return True
        return super().has_perm(user_obj, perm, obj)
