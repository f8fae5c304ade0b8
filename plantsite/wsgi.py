"""WSGI entry point for gunicorn: Django, with chunked request bodies given a length."""

import os

from django.core.wsgi import get_wsgi_application

from plantsite.chunked import ChunkedBodyMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantsite.settings.base")

application = ChunkedBodyMiddleware(get_wsgi_application())
