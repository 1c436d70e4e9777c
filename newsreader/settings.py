"""Settings for newsreader, read from the environment.

Local development needs no variable at all: DEBUG is on, the database is a SQLite
file in the project folder and the secret key is a throwaway. With DJANGO_DEBUG
off the site refuses to start without a real DJANGO_SECRET_KEY.

Variables: DJANGO_SECRET_KEY, DJANGO_DEBUG, DJANGO_ALLOWED_HOSTS (comma-separated),
DATABASE_URL (sqlite:///path or postgres://user:pass@host/db), REDIS_URL, CONTENT_GENERATION_FILE,
DJANGO_SECURE_SSL (on by default in production: HTTPS redirect, HSTS, secure cookies),
TRUSTED_PROXY_COUNT (proxies in front that append to X-Forwarded-For),
DATABASE_CONNECT_TIMEOUT and REDIS_TIMEOUT (seconds before a dead server is given up on),
CACHE_MAX_BYTES (the most each process's local-memory cache holds, without REDIS_URL).
"""

import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name, default):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    value = os.environ.get(name)
    if not value:
        return default
    return [item.strip() for item in value.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

_INSECURE_KEY = "django-insecure-local-development-only"
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "") or _INSECURE_KEY
if not DEBUG and (SECRET_KEY == _INSECURE_KEY or len(SECRET_KEY) < 50 or SECRET_KEY.startswith("django-insecure")):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be set to a long random value when DJANGO_DEBUG is off "
        '(python -c "import secrets; print(secrets.token_urlsafe(50))").'
    )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "django.contrib.postgres",
    "django_filters",
    "axes",
    "stories",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "stories.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Refuses unreadable query strings (control characters, broken UTF-8, huge values) with a
    # 400 before any view runs; after the middleware above, so its page gets their headers.
    "stories.query_guard.QueryGuardMiddleware",
    # Last, so a locked-out login is answered before the view runs.
    "axes.middleware.AxesMiddleware",
]

# bench/ swaps in a urlconf with a trivial view, the ceiling its page figures are compared to.
ROOT_URLCONF = os.environ.get("DJANGO_ROOT_URLCONF", "newsreader.urls")

# The public pages are Jinja2 templates (templates/, stories/jinja2.py): a third of a page's
# CPU time was Django's template engine. The admin's overrides and the sitemaps' XML stay
# Django templates, in stories/templates/ (APP_DIRS), out of Jinja2's reach; the Django engine
# in turn cannot see templates/, so each template is read by the one engine it is written for.
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "environment": "stories.jinja2.environment",
            # Only what the public templates use: the backend adds the request itself.
            "context_processors": ["stories.context_processors.site"],
        },
    },
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "stories.context_processors.site",
            ],
        },
    },
]

WSGI_APPLICATION = "newsreader.wsgi.application"

# Database: SQLite file by default (the embedded database), PostgreSQL when
# DATABASE_URL names one.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("DJANGO_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's default deferred transactions fail with "database is locked" as
    # soon as two writers meet; IMMEDIATE takes the write lock up front and the
    # timeout makes the second writer wait instead. WAL lets readers go on
    # while an import writes.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = False
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": float(os.environ.get("SQLITE_TIMEOUT", "20")),
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-20000;"
        ),
    }
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME") or None}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A request (and /healthz) gives up on an unreachable server after this many
    # seconds instead of hanging; libpq counts anything under 2 as 2. A
    # connect_timeout in DATABASE_URL's query string wins.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "3"))
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out login before the password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Admin login throttling (django-axes): 5 failures for one username from one
# address lock that pair out for an hour. `python manage.py axes_reset` unlocks.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# Reverse proxies in front of the app that append the client's address to
# X-Forwarded-For (nginx with $proxy_add_x_forwarded_for: 1). 0 ignores the header
# and takes REMOTE_ADDR. The client is read from the right of the header, where the
# trusted proxies wrote, never from its forgeable left (newsreader/proxy.py).
_proxy_count = (os.environ.get("TRUSTED_PROXY_COUNT") or "0").strip()
if not (_proxy_count.isascii() and _proxy_count.isdigit()):
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be a whole number: 0 (no proxy) or more.")
TRUSTED_PROXY_COUNT = int(_proxy_count)
AXES_CLIENT_IP_CALLABLE = "newsreader.proxy.client_ip"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# One language (English): no translation machinery on every reverse(), date and form.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not env_bool("DJANGO_PLAIN_STATIC", DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Cache: local memory by default, Redis when REDIS_URL is set.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "newsreader"),
            "TIMEOUT": 300,
            # Passed to redis-py's connection pool: a dead or silent Redis fails a
            # cache call after this many seconds instead of hanging the request.
            "OPTIONS": {
                "socket_connect_timeout": float(os.environ.get("REDIS_TIMEOUT", "2")),
                "socket_timeout": float(os.environ.get("REDIS_TIMEOUT", "2")),
            },
        }
    }
else:
    # Each process's own memory: capped in bytes (pickled sizes), not only in entries,
    # so that a crawl of distinct URLs cannot grow a worker past it (stories/cache_backends.py).
    _max_bytes = (os.environ.get("CACHE_MAX_BYTES") or str(64 * 1024 * 1024)).strip()
    if not (_max_bytes.isascii() and _max_bytes.isdigit()):
        raise ImproperlyConfigured("CACHE_MAX_BYTES must be a whole number of bytes (default 67108864, 64 MB).")
    CACHES = {
        "default": {
            "BACKEND": "stories.cache_backends.ByteCappedLocMemCache",
            "LOCATION": "newsreader",
            "TIMEOUT": 300,
            "OPTIONS": {"MAX_ENTRIES": 5000, "MAX_BYTES": int(_max_bytes)},
        }
    }


def _default_generation_file():
    """Beside the SQLite database (every process using that file shares it), else in var/."""
    database = DATABASES["default"]
    name = str(database.get("NAME") or "")
    if database["ENGINE"] == "django.db.backends.sqlite3" and name and "memory" not in name:
        return f"{name}-generation"
    slug = "".join(c if c.isalnum() else "-" for c in f"{database.get('HOST') or 'local'}-{name}")
    return str(BASE_DIR / "var" / f"content-generation-{slug}")


# The content generation that keys every cached page (stories/caching.py): in Redis
# when Redis is the cache, else in this file, read by every process on the machine.
CONTENT_GENERATION_FILE = os.environ.get("CONTENT_GENERATION_FILE") or (
    "" if os.environ.get("REDIS_URL") else _default_generation_file()
)
# Seconds an anonymous page stays cached; 0 switches page caching off.
PAGE_CACHE_SECONDS = int(os.environ.get("PAGE_CACHE_SECONDS", "60"))

# Security. Headers apply in every mode; transport security only in production.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
# The load balancer's health check talks plain HTTP to each app server: /healthz is
# never redirected to HTTPS (Django matches the path without its leading slash).
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
if not DEBUG and env_bool("DJANGO_SECURE_SSL", True):
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# The site's name and canonical origin, for feeds, sitemaps and absolute links.
SITE_NAME = os.environ.get("SITE_NAME", "Newsreader")
SITE_URL = os.environ.get("SITE_URL", "").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
