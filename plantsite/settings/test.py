"""Test settings: fast hashing, isolated data and a broker queue of this test run's own."""

import os
import tempfile

from .base import *  # noqa: F403
from .base import CACHES, DATA_DIR, DATABASES, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
MEDIA_ROOT = env("MEDIA_ROOT", default=tempfile.mkdtemp(prefix="plantsite-media-"))

# A worker subprocess must see the rows a test writes, so SQLite tests use a
# file, not the in-memory database.
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["TEST"] = {"NAME": str(DATA_DIR / f"test-{os.getpid()}.sqlite3")}

# Test runs on one machine share one Redis: each run gets its own queue and cache keys.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default=f"plantsite-test-{os.getpid()}")
CACHES["default"]["KEY_PREFIX"] = CELERY_TASK_DEFAULT_QUEUE
# Limits that a busy CI machine's first task (torch import, model load) stays inside, and a
# visibility timeout short enough for the worker-loss test; base.py's rule still holds:
# the visibility timeout exceeds the hard time limit.
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=70)
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 5)
}
WHITENOISE_USE_FINDERS = True

# Every test client posts from 127.0.0.1: the account throttles' own tests set their rates and addresses.
ACCOUNTS_SIGNUP_RATE = env("ACCOUNTS_SIGNUP_RATE", default="10000/hour")
ACCOUNTS_PASSWORD_RESET_RATE = env("ACCOUNTS_PASSWORD_RESET_RATE", default="10000/hour")
