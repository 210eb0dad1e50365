"""Routes of the privacy tools (included under /customers/ through profiles/urls_tools.py)."""

from django.urls import path

from profiles import views_privacy

urlpatterns = [
    path("<int:pk>/export/", views_privacy.customer_export, name="customer_export"),
    path("<int:pk>/erase/", views_privacy.customer_erase, name="customer_erase"),
    path("audit/", views_privacy.audit_log, name="audit_log"),
    path("privacy/retention/", views_privacy.retention_settings, name="retention_settings"),
]
