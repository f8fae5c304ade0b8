"""Settings shared by every environment; each deploy-time value comes from the environment."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.core.management.utils import get_random_secret_key
from django.utils.translation import gettext_lazy as _

from plantsite.broker import configured_broker_url, embedded_redis_dir

BASE_DIR = Path(__file__).resolve().parents[2]
env = environ.Env()
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env")

# --- Paths -------------------------------------------------------------------
DATA_DIR = Path(env("PLANTSITE_DATA_DIR", default=str(BASE_DIR / "var"))).resolve()
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(DATA_DIR / "media"))).resolve()
STATIC_ROOT = DATA_DIR / "static"
MODELS_DIR = Path(env("PLANTSITE_MODELS_DIR", default=str(DATA_DIR / "models"))).resolve()


def _local_secret_key(data_dir: Path) -> str:
    """Return this installation's own secret key, created on first use beside the data."""
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.write_text(get_random_secret_key())
        path.chmod(0o600)
    return path.read_text().strip()


def _whole_number(name: str, default: int, minimum: int, meaning: str) -> int:
    """Return the environment's integer ``name`` (at least ``minimum``), or raise saying what to set."""
    raw = env(name, default=str(default))
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r}: set it to a whole number of {meaning}, {minimum} or more")
    return value


# --- Core --------------------------------------------------------------------
# Read raw: django-environ would treat a key that starts with "$" as a reference to another variable.
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or _local_secret_key(DATA_DIR)
DEBUG = env.bool("DJANGO_DEBUG", default=False)
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

# plantsite comes before django.contrib.admin so that its registration/ templates win.
INSTALLED_APPS = [
    "plantsite",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "corsheaders",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "csp",
    "ml",
    "recognition",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # last: turns a locked-out login (the site's or the admin's) into plantsite.throttling.locked_out's page
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "plantsite.urls"
WSGI_APPLICATION = "plantsite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "plantsite.pwa.app_context",
            ],
        },
    },
]

# --- Browser policies ---------------------------------------------------------
# Only the site's own scripts (files, or the one inline line of base.html with its per-request nonce), styles,
# images (blob: for the previews of chosen photos, data: for Swagger UI's icons) and requests; the service worker
# (/sw.js) and the web manifest of the installable app come from the site too.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF],
        "img-src": [SELF, "data:", "blob:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "worker-src": [SELF],
        "manifest-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# The powerful browser features no page uses, switched off for this site and anything it could embed.
PERMISSIONS_POLICY: dict[str, list[str]] = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
    )
}

# --- Database ----------------------------------------------------------------
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{DATA_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # The web server and the worker write concurrently: WAL plus immediate
    # transactions turn "database is locked" races into short waits.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
DATABASES["default"]["ATOMIC_REQUESTS"] = False
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts ----------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Not a rule: Django calls it after every password change (page, reset link, admin, changepassword).
    {"NAME": "recognition.tokens.RevokeApiTokensOnPasswordChange"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
PASSWORD_RESET_TIMEOUT = env.int("PASSWORD_RESET_TIMEOUT", default=3 * 24 * 3600)

# --- Limits on guessing ------------------------------------------------------
# django-axes counts failed logins (the site's and the admin's) per account and per address, in the database:
# after LOGIN_FAILURE_LIMIT of either, logins from that address or to that account answer 429 for the lock time.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = _whole_number("LOGIN_FAILURE_LIMIT", 5, 1, "failed logins")
AXES_COOLOFF_TIME = timedelta(minutes=_whole_number("LOGIN_LOCKOUT_MINUTES", 15, 1, "minutes"))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "plantsite.throttling.locked_out"
AXES_CLIENT_IP_CALLABLE = "plantsite.throttling.client_address"
AXES_VERBOSE = False
# How many reverse proxies in front of gunicorn add to X-Forwarded-For (0: the client connects directly).
TRUSTED_PROXIES = env.int("TRUSTED_PROXIES", default=0)
# Sign-up and password-reset requests, per client address and per e-mail address (DRF rate syntax).
ACCOUNTS_SIGNUP_RATE = env("ACCOUNTS_SIGNUP_RATE", default="5/hour")
ACCOUNTS_PASSWORD_RESET_RATE = env("ACCOUNTS_PASSWORD_RESET_RATE", default="5/hour")

# --- E-mail (password reset) -------------------------------------------------
# The console backend by default: `make run` prints each message, reset links included, to its log.
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="plantsite <noreply@localhost>")

# --- Internationalisation ----------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = env("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media --------------------------------------------------------
STATIC_URL = "static/"
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# --- Celery ------------------------------------------------------------------
# REDIS_URL, else the embedded Redis that `make run` starts in DATA_DIR.
REDIS_URL = configured_broker_url(embedded_redis_dir(DATA_DIR))
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = REDIS_URL
CELERY_RESULT_EXPIRES = 3600
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=300)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=360)
# A task is acknowledged only once it finished, and a worker holds one message at
# a time, so a worker that dies mid-task leaves its message to another worker.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_WORKER_CONCURRENCY = env.int("CELERY_WORKER_CONCURRENCY", default=1)
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="plantsite")
# Unacknowledged messages return to the queue after this many seconds: it must
# exceed the hard time limit, or a slow task would be handed out twice.
# The connect timeout bounds how long an upload waits on a broker that is down: the
# identification is then queued by the sweeper instead (RECOGNITION_SWEEP_SECONDS).
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=CELERY_TASK_TIME_LIMIT + 60),
    "socket_connect_timeout": 1,
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_TIMEOUT = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_IMPORTS = ["plantsite.ping"]

# --- Cache -------------------------------------------------------------------
# The same Redis keeps per-user API throttles, so that they hold across gunicorn
# processes and hosts.
# "local" is where throttles count, per process, while that Redis is down.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL.replace("redis+socket://", "unix://", 1),
        "KEY_PREFIX": "plantsite",
        "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
    },
    "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "plantsite-fallback"},
}

# --- REST API ----------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: a request without credentials gets 401 with "WWW-Authenticate: Token", not 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "recognition.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "plantsite API",
    "DESCRIPTION": "Identify plants from photos and read your identification history.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Uploads documented as binary files, not as the URLs that responses carry.
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- API tokens --------------------------------------------------------------
# django-rest-knox keeps a SHA-512 hash of each token, never the token. A token lives this many days
# unless its owner picks another lifetime on the API token page; each user holds at most this many.
API_TOKEN_DAYS = _whole_number("API_TOKEN_DAYS", 90, 1, "days")
API_TOKEN_LIMIT = _whole_number("API_TOKEN_LIMIT", 10, 1, "tokens per user")
KNOX_TOKEN_MODEL = "recognition.ApiToken"
# knox's own migration creates its AuthToken table even when the model is swapped for ours; that unused table's
# foreign key to auth_user then stops PostgreSQL from truncating users (`flush`, transactional tests). Swapped,
# knox needs no table at all.
MIGRATION_MODULES = {"knox": None}
REST_KNOX = {"TOKEN_TTL": timedelta(days=API_TOKEN_DAYS), "TOKEN_LIMIT_PER_USER": API_TOKEN_LIMIT}

# --- Logging -----------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# /health/ answers only {"status"} to anonymous callers; staff, or a monitor sending this value in the
# X-Health-Token header, also get each part's state (model name, worker count, error text). Empty: staff only.
HEALTH_TOKEN = env("HEALTH_TOKEN", default="")

# --- Recognition -------------------------------------------------------------
# An operator override of each model's own acceptance threshold (fitted on its val split when it was
# trained or calibrated): below this calibrated top probability a result is "no match". Unset: the model's.
RECOGNITION_CONFIDENCE_THRESHOLD = env.float("RECOGNITION_CONFIDENCE_THRESHOLD", default=None)
if RECOGNITION_CONFIDENCE_THRESHOLD is not None and not 0 <= RECOGNITION_CONFIDENCE_THRESHOLD <= 1:
    raise ImproperlyConfigured(
        f"RECOGNITION_CONFIDENCE_THRESHOLD={RECOGNITION_CONFIDENCE_THRESHOLD}: give a probability between 0 and 1, "
        "or leave it unset to use each model's own threshold"
    )
RECOGNITION_MAX_UPLOAD_BYTES = env.int("RECOGNITION_MAX_UPLOAD_MB", default=20) * 1024 * 1024
# Larger images are refused before decoding (decompression bombs).
RECOGNITION_MAX_PIXELS = env.int("RECOGNITION_MAX_PIXELS", default=50_000_000)
RECOGNITION_MAX_FILES = env.int("RECOGNITION_MAX_FILES", default=5)
# Photos longer than this many times their width (or wider than this many times their height) are refused:
# a 1 x 6000 PNG of 110 bytes would otherwise be scaled to a strip of millions of pixels in the worker.
RECOGNITION_MAX_ASPECT_RATIO = env.float("RECOGNITION_MAX_ASPECT_RATIO", default=10.0)
if RECOGNITION_MAX_ASPECT_RATIO < 1:
    raise ImproperlyConfigured(
        f"RECOGNITION_MAX_ASPECT_RATIO={RECOGNITION_MAX_ASPECT_RATIO}: give the longest side over the shortest, 1 or more"
    )
# A worker that dies while running an identification (killed, out of memory) never reports: the identification
# is claimed again, at most this many times in all, then failed with a message instead of stopping workers forever.
RECOGNITION_MAX_DELIVERIES = _whole_number("RECOGNITION_MAX_DELIVERIES", 3, 1, "deliveries")
RECOGNITION_TOP_K = env.int("RECOGNITION_TOP_K", default=5)
RECOGNITION_TTA = env.bool("RECOGNITION_TTA", default=False)
# How workers run the active model: torch (its checkpoint), onnx or onnx-int8 (files written by
# `manage.py models export NAME [--int8]` beside the checkpoint).
RECOGNITION_RUNTIME = env("RECOGNITION_RUNTIME", default="torch")
if RECOGNITION_RUNTIME not in ("torch", "onnx", "onnx-int8"):
    raise ImproperlyConfigured(f"RECOGNITION_RUNTIME={RECOGNITION_RUNTIME!r}: choose torch, onnx or onnx-int8")
RECOGNITION_PAGE_SIZE = env.int("RECOGNITION_PAGE_SIZE", default=20)
RECOGNITION_THUMBNAIL_PX = env.int("RECOGNITION_THUMBNAIL_PX", default=320)
RECOGNITION_UPLOAD_RATE = env("RECOGNITION_UPLOAD_RATE", default="120/hour")
# The Pl@ntNet-compatible /v2/identify answers synchronously: it waits this long for the
# worker, then answers 504 with the identification's URL (the work still finishes). Under gunicorn's sync
# workers keep it below their timeout (30 s by default); `make run` uses gthread, whose workers keep beating.
RECOGNITION_PLANTNET_WAIT_SECONDS = env.float("RECOGNITION_PLANTNET_WAIT_SECONDS", default=25.0)
# Browser apps on these origins (https://app.example.org) may call /v2/ (CORS, preflight included); none by default.
CORS_ALLOWED_ORIGINS = env.list("RECOGNITION_CORS_ORIGINS", default=[])
CORS_URLS_REGEX = r"^/v2/.*$"
CORS_EXPOSE_HEADERS = ["Location", "RateLimit", "RateLimit-Policy", "Retry-After"]
# GET /v2/identify/<project>?images=URL: the service downloads the photos (public addresses only, each at
# most RECOGNITION_MAX_UPLOAD_MB, within the timeout). Off by default: the service then makes no outside requests.
RECOGNITION_REMOTE_IMAGES = env.bool("RECOGNITION_REMOTE_IMAGES", default=False)
RECOGNITION_REMOTE_IMAGE_TIMEOUT_SECONDS = env.float("RECOGNITION_REMOTE_IMAGE_TIMEOUT_SECONDS", default=10.0)
# Hosts fetched even though they resolve to a private or loopback address: for tests only, never from the environment.
RECOGNITION_REMOTE_IMAGE_PRIVATE_HOSTS: list[str] = []
# How long the signed image URLs in /v2/ answers (related images, query.images) open without a key.
RECOGNITION_IMAGE_URL_SECONDS = env.int("RECOGNITION_IMAGE_URL_SECONDS", default=24 * 3600)
# How many /v2/identify requests of one user may wait for the worker at once; one more is answered 429 at once.
RECOGNITION_PLANTNET_WAITS_PER_USER = _whole_number("RECOGNITION_PLANTNET_WAITS_PER_USER", 2, 1, "requests")
RECOGNITION_PLANTNET_MAX_REQUEST_BYTES = env.int("RECOGNITION_PLANTNET_MAX_REQUEST_MB", default=50) * 1024 * 1024
# The database is the source of truth for what must run: every worker sweeps it this often
# and re-queues identifications that were never queued (broker down at upload time), that
# stayed queued longer than RECOGNITION_REQUEUE_AFTER, or whose worker stopped beating.
RECOGNITION_SWEEP_SECONDS = env.float("RECOGNITION_SWEEP_SECONDS", default=15)
RECOGNITION_REQUEUE_AFTER = env.int("RECOGNITION_REQUEUE_AFTER", default=300)
RECOGNITION_HEARTBEAT_SECONDS = env.float("RECOGNITION_HEARTBEAT_SECONDS", default=3)
# Micro-batching in the workers: a task answers its identification and, in the same forward pass, the
# oldest others waiting for the same model, up to this many photos in all (1: one at a time) ...
RECOGNITION_BATCH_PHOTOS = _whole_number("RECOGNITION_BATCH_PHOTOS", 16, 1, "photos")
# ... waiting up to this long for more to arrive while the batch has room (0: take only what waits already).
RECOGNITION_BATCH_WAIT_MS = _whole_number("RECOGNITION_BATCH_WAIT_MS", 20, 0, "milliseconds")
REST_FRAMEWORK.update(
    {
        "DEFAULT_THROTTLE_CLASSES": ["recognition.throttles.UserRateThrottle"],
        "DEFAULT_THROTTLE_RATES": {"user": env("RECOGNITION_API_RATE", default="2000/hour")},
        "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
        "PAGE_SIZE": RECOGNITION_PAGE_SIZE,
        "EXCEPTION_HANDLER": "recognition.api.exceptions.json_exception_handler",
    }
)
