from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("stories.urls")),
]

# Django's default handlers render templates/404.html and templates/500.html,
# both in the site's layout; 500.html needs no context and no database.
