from django.urls import include, path

from profiles import views

urlpatterns = [
    path("", views.customer_list, name="customer_list"),
    # Segments, imports, exports and privacy tools live in their own module.
    path("", include("profiles.urls_tools")),
]
