"""The editors' admin (see ``story`` for the story pages, ``catalog`` for the rest)."""

from django.conf import settings
from django.contrib import admin

from stories.admin import catalog, story  # noqa: F401 - registers the model admins

admin.site.site_header = f"{getattr(settings, 'SITE_NAME', 'Newsreader')} administration"
admin.site.site_title = admin.site.site_header
