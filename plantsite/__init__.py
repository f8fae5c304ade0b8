"""plantsite: a self-hosted plant identification service."""

from .celery import app as celery_app

__all__ = ("celery_app",)
