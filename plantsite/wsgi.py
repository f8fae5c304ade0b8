"""WSGI entry point for gunicorn: Django behind the request limits (URL length, chunked bodies given a length)."""

import os

from django.core.wsgi import get_wsgi_application

from plantsite.request_limits import RequestLimitsMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "plantsite.settings.base")

application = RequestLimitsMiddleware(get_wsgi_application())
