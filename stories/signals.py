"""Sent when published content changed (an import, a publish or unpublish): caches listen."""

from django.dispatch import Signal

content_changed = Signal()
