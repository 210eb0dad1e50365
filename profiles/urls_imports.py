"""Routes for CSV imports and the customer export (see profiles/urls_tools.py)."""

from django.urls import path

from profiles import views_imports

urlpatterns = [
    path("imports/", views_imports.import_list, name="import_list"),
    path("imports/<int:pk>/map/", views_imports.import_map, name="import_map"),
    path("imports/<int:pk>/", views_imports.import_detail, name="import_detail"),
    path("imports/<int:pk>/status/", views_imports.import_status, name="import_status"),
    path("imports/<int:pk>/report.csv", views_imports.import_report, name="import_report"),
    path("export.csv", views_imports.customer_export_csv, name="customer_export_csv"),
]
