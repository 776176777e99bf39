"""Settings, all overridable from the environment (see README: Configuration)."""

import ipaddress
from pathlib import Path

import environ
from celery.schedules import crontab
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)
# The default key is only for development: `check --deploy` flags it, so production must set SECRET_KEY.
SECRET_KEY = env("SECRET_KEY", default="django-insecure-development-key-do-not-use-in-production")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "djmoney",
    "import_export",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "sequences",
    "axes",
    "simple_history",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_filters",
    "django_tables2",
    "billing",
    "catalog",
    "contracts",
    "quotes",
    "invoices",
    "workspace",
    "events",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the process itself (hashed names, compressed, cached for good): no separate web
    # server is needed for them.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): whether this session passed the second factor.
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
    # A customer's contact signed in to the portal reaches the portal only; no portal answer is cached.
    "portal.middleware.PortalMiddleware",
    # Staff with money powers pass the second factor before any page but the sign-in ones (billing.roles).
    "billing.second_factor.SecondFactorMiddleware",
    # Audit history records the user of the request that made each change.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Links made during a request point at the address it reached (billing.mail.site_url).
    "billing.mail.RequestSiteMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # throttles repeated failed logins
    "django.contrib.auth.backends.ModelBackend",
    # Contacts sign in to the customer portal with one-time links (contracts.portal_access).
    "sesame.backends.ModelBackend",
]
# A portal sign-in link works once, within this many minutes, for the portal only (its scope).
SESAME_MAX_AGE = env.int("PORTAL_LINK_MINUTES", default=15) * 60
SESAME_ONE_TIME = True
# A portal session ends after this many hours (staff sessions keep Django's default).
PORTAL_SESSION_HOURS = env.int("PORTAL_SESSION_HOURS", default=8)
# The portal's sign-in form sends at most this many links per client address and per e-mail address
# (django-ratelimit, counted in the default cache: set CACHE_URL to Redis when several processes serve).
PORTAL_SIGN_IN_RATE = env("PORTAL_SIGN_IN_RATE", default="5/15m")
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}
# Messages live in the session, not in a cookie: a webhook secret shown once (events.admin) never travels
# in a cookie.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"
# The reverse proxies in front of the application (billing.client_address): how many append to
# X-Forwarded-For, and optionally the networks they connect from. 0 (the default): no proxy, the address
# that connects is the client's.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
TRUSTED_PROXY_NETWORKS = [
    ipaddress.ip_network(network, strict=False) for network in env.list("TRUSTED_PROXY_NETWORKS", default=[])
]
# Login throttling counts failed logins per client address, whatever the user name: one password tried
# over many user names (spraying) is stopped as well as many passwords for one user, and a user is never
# locked out for the clients whose address made no failure (a lock by user name alone would let anyone
# lock finance out). Failures are forgotten after the cool-off, not on a successful login, since a
# sprayer holding one account would otherwise log in with it to clear its count. An administrator unlocks
# a client in the admin (Axes: access attempts, delete).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = ["ip_address"]
AXES_RESET_ON_SUCCESS = False
AXES_CLIENT_IP_CALLABLE = "billing.client_address.client_address"
AXES_ENABLE_ADMIN = True

ROOT_URLCONF = "billing.urls"
WSGI_APPLICATION = "billing.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes the write lock when a transaction starts, so concurrent writers wait (up to the
    # timeout) instead of failing with "database is locked" half-way through.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A database that does not answer makes a request fail (503) after this many seconds instead of
    # holding a web process for ever.
    DATABASES["default"].setdefault("OPTIONS", {})["connect_timeout"] = env.int(
        "DATABASE_CONNECT_TIMEOUT", default=5
    )
# Keep connections between requests (opening one, and SQLite's PRAGMAs, cost more than a check); the health
# check before a request's first query replaces a connection the database dropped (a restart, a network
# cut), so requests succeed again by themselves once it is back.
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "admin:login"

# Second factor (TOTP apps, recovery codes) for staff with money powers (billing.roles.has_money_powers).
# Only `make run`'s demo may turn it off: `check --deploy` refuses OTP_REQUIRED=false with DEBUG off.
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=True)
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", default="After-sales billing")
# Wrong codes wait 1, 2, 4, 8 ... seconds (django-otp's back-off, per device; 0 would turn it off).
OTP_TOTP_THROTTLE_FACTOR = 1
OTP_STATIC_THROTTLE_FACTOR = 1
# The admin of devices shows no secret: an administrator resets a user's devices, never reads them.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
# Production (DEBUG off) serves hashed, compressed static files collected by `collectstatic`; development
# and the tests use the plain storage, which needs no collected files.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", default=str(BASE_DIR / "var" / "media")))

# Money: CNY unless a document says otherwise.
DEFAULT_CURRENCY = "CNY"
CURRENCIES = ("CNY", "USD", "EUR", "HKD")

# Request bodies larger than this are refused (413) before they are read: Django's own limit, stated here
# so that a deployment sees it. The API refuses JSON nested deeper than API_JSON_MAX_DEPTH (400).
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("REQUEST_BODY_MAX_BYTES", default=2_621_440)
API_JSON_MAX_DEPTH = env.int("API_JSON_MAX_DEPTH", default=32)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["billing.apikeys.ApiKeyAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["billing.apikeys.HasScope"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["billing.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "billing.problems.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": None,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "After-sales billing API",
    "DESCRIPTION": "Entitlement checks, consumption and out-of-scope charge requests for ticketing tools.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_SETTINGS": {"validatorUrl": None},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "billing.schema.document_not_acceptable",
        "billing.schema.document_request_too_large",
    ],
}

# Where links in e-mails point (customer links to answer charge requests and quotes).
# Where links in e-mails and on pages point (billing.mail.site_url). Production sets it (`check --deploy`
# warns when it is empty); without it, the address a request reached the server at, and outside a request
# RUNSERVER_URL, which `make run` sets from its HOST.
SITE_URL = env("SITE_URL", default="")
RUNSERVER_URL = env("RUNSERVER_URL", default="http://127.0.0.1:8000")
# How long the signed links mailed to customers open their document: a quote's link covers its validity
# and the closing rule's two months; a charge request's link the closing rule's two months.
QUOTE_LINK_MAX_AGE_DAYS = env.int("QUOTE_LINK_MAX_AGE_DAYS", default=120)
CHARGE_REQUEST_LINK_MAX_AGE_DAYS = env.int("CHARGE_REQUEST_LINK_MAX_AGE_DAYS", default=62)
# A paid period's fee invoice this many days past its due date with money open bends the entitlement
# decision as the period's tier says (catalog.FeeOverduePolicy: warn or suspend); the due date and these
# days are grace.
FEE_OVERDUE_GRACE_DAYS = env.int("FEE_OVERDUE_GRACE_DAYS", default=30)
# Charge requests worth more than this (CNY) need finance's approval after the account manager's.
CHARGE_FINANCE_APPROVAL_ABOVE = env.int("CHARGE_FINANCE_APPROVAL_ABOVE", default=20000)
# Team leads of account managers (contracts.ownership): "lead=manager1,manager2;lead2=manager3" lets each
# lead act for the customers of the managers named after it, as for their own.
ACCOUNT_MANAGER_TEAMS = {
    lead.strip(): [name.strip() for name in members.split(",") if name.strip()]
    for lead, _sep, members in (
        team.partition("=") for team in env("ACCOUNT_MANAGER_TEAMS", default="").split(";") if team.strip()
    )
}

# How long API idempotency keys are remembered (at least 24 hours).
IDEMPOTENCY_KEEP_HOURS = env.int("IDEMPOTENCY_KEEP_HOURS", default=48)

# Every import (work logs, holiday schedules, prices; command and admin), read by billing.spreadsheets: larger
# files are refused before they are read; an XLSX is refused before it is loaded when it unpacks to more
# bytes, holds more shared strings or declares a bigger sheet than these; dates further than
# IMPORT_DATE_WINDOW_YEARS from today are refused.
IMPORT_MAX_BYTES = env.int("IMPORT_MAX_BYTES", default=5 * 1024 * 1024)
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=20000)
# A staff list exports at most this many rows at once (workspace.lists): narrow the filters for more.
LIST_EXPORT_MAX_ROWS = env.int("LIST_EXPORT_MAX_ROWS", default=50000)
LIST_MAX_PER_PAGE = 200  # rows a list page shows at most (?per_page=)
IMPORT_MAX_COLUMNS = env.int("IMPORT_MAX_COLUMNS", default=50)
IMPORT_XLSX_MAX_UNPACKED_BYTES = env.int("IMPORT_XLSX_MAX_UNPACKED_BYTES", default=40 * 1024 * 1024)
IMPORT_XLSX_MAX_SHARED_STRINGS = env.int("IMPORT_XLSX_MAX_SHARED_STRINGS", default=200000)
IMPORT_DATE_WINDOW_YEARS = env.int("IMPORT_DATE_WINDOW_YEARS", default=10)
# The admin keeps an uploaded file here between its preview and its confirmation (at most this long).
IMPORT_TMP_DIR = Path(env("IMPORT_TMP_DIR", default=str(BASE_DIR / "var" / "imports")))
IMPORT_CONFIRM_MAX_AGE_SECONDS = env.int("IMPORT_CONFIRM_MAX_AGE_SECONDS", default=3600)
# Imports and exports in the admin (django-import-export) need the model's own permissions, as billing.roles
# grants them: an import adds rows ("add"; billing.imports.CheckedImportExportAdmin also asks for "change",
# since an import updates the rows it matches), an export reads them ("view"). Unset, any staff user may do
# both.
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
# Work logged against an order line beyond its ordered quantity: "charge_request" makes the excess an
# out-of-scope charge request (approval and customer confirmation follow); "refuse" refuses the work log.
ORDER_OVERRUN = env.str("ORDER_OVERRUN", default="charge_request")
# A use of a quota (contracts.services.consume) may be dated this many seconds ahead of our clock, for the
# clock skew of the ticketing tools that report it; further ahead it is refused (consumption_in_future).
CONSUMPTION_FUTURE_MARGIN_SECONDS = env.int("CONSUMPTION_FUTURE_MARGIN_SECONDS", default=300)

# How long a process keeps catalogue rows (calendars, response targets, services) before reading them
# again; its own changes are seen at once.
CATALOG_CACHE_SECONDS = env.int("CATALOG_CACHE_SECONDS", default=60)
API_KEY_CACHE_SECONDS = env.int("API_KEY_CACHE_SECONDS", default=5)

# Quotes: a discount above this fraction (on any line, quote discount included) needs a sales manager's
# approval before the quote is sent; quotes are valid this many days unless set.
QUOTE_DISCOUNT_APPROVAL_ABOVE = env.float("QUOTE_DISCOUNT_APPROVAL_ABOVE", default=0.15)
QUOTE_VALID_DAYS = env.int("QUOTE_VALID_DAYS", default=30)
# Renewals: the account manager is reminded this many days before a period ends (once per step); a
# renewal quote is drafted at the first step.
RENEWAL_REMINDER_DAYS = env.list("RENEWAL_REMINDER_DAYS", cast=int, default=[90, 60, 30])

# The vendor as documents show it.
VENDOR = {
    "name": env("VENDOR_NAME", default="蓝凌软件股份有限公司"),
    "name_en": env("VENDOR_NAME_EN", default="Landray Software Co., Ltd."),
    "uscc": env("VENDOR_USCC", default="914403007152452645"),
    "address": env("VENDOR_ADDRESS", default="深圳市南山区"),
    "phone": env("VENDOR_PHONE", default="400-000-0000"),
    "bank": env("VENDOR_BANK", default="招商银行深圳分行"),
    "bank_account": env("VENDOR_BANK_ACCOUNT", default="7559 0000 0000 0000"),
}

# Fapiao (数电发票, ../einvoice): the vendor's VAT status sets the rates (catalog.VatRate per kind); travel
# charged to customers is either part of the service's taxable sale ("taxable": billed at the service's
# tax code and rate, VAT included in the amount at cost) or costs invoiced by third parties to the customer
# and kept outside the fapiao ("outside": no VAT of ours). Which catalogue service travel is sold under, and
# which one a service period's fee is (for their tax classification codes).
VENDOR_TAXPAYER_KIND = env("VENDOR_TAXPAYER_KIND", default="general")
TRAVEL_VAT = env("TRAVEL_VAT", default="taxable")
TRAVEL_SERVICE_CODE = env("TRAVEL_SERVICE_CODE", default="on-site-service")
PERIOD_FEE_SERVICE_CODE = env("PERIOD_FEE_SERVICE_CODE", default="remote-maintenance")
# A red-letter confirmation form (红字发票信息确认单) the buyer has not confirmed within this many hours is
# void (invoices.red_letter).
RED_LETTER_CONFIRM_HOURS = env.int("RED_LETTER_CONFIRM_HOURS", default=72)

# The business calendar used when a caller names none (catalog.calendar).
BUSINESS_CALENDAR_DEFAULT = env("BUSINESS_CALENDAR_DEFAULT", default="5x8")

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="billing@localhost")
ADMINS = [tuple(a.split(":", 1)) for a in env.list("ADMINS", default=[]) if ":" in a]
# Who is told when next year's holiday schedule is still missing from the business calendar.
CALENDAR_ALERT_EMAILS = env.list("CALENDAR_ALERT_EMAILS", default=[email for _name, email in ADMINS])

# Celery: with no broker, tasks run eagerly in-process (the embedded default for `make run` and tests).
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env(
    "CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else None
)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = TIME_ZONE
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Several deployments (or test runs) may share one broker: each names its queue.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", default="celery")
# Publishing retries for a few seconds when the broker is away; after that the caller logs the failure and
# the work stays recorded in the database, where `dispatch_pending_work` (beat) finds it again.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 5, "interval_start": 0.2, "interval_step": 0.5}
# Tasks declared `acks_late` (invoice runs, PDFs: all safe to run twice) are acknowledged when they end: a
# worker killed mid-task leaves the message to be delivered again. A pool process killed (OOM, SIGKILL) is
# requeued at once; a whole worker killed, after the visibility timeout (Redis), which must stay longer than
# the longest task and any countdown, or the task runs twice. One message reserved at a time, so a dead
# worker holds back no queue.
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# A worker that loses the broker stops its acks_late tasks (they cannot be acknowledged and come back
# anyway), as Celery 6 will by default.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=3600),
    # How often a worker looks for messages whose worker died once their visibility timeout has passed:
    # every 10 s, as kombu did before 5.7 (which looks every interval x throttle seconds, 100 by default).
    "unacked_restore_interval": env.int("CELERY_UNACKED_RESTORE_SECONDS", default=10),
    "unacked_restore_throttle": 1,
    "socket_connect_timeout": 5,
}
# Work recorded this long ago whose task has not started (the broker was away) is sent again by beat.
DISPATCH_PENDING_AFTER_SECONDS = env.int("DISPATCH_PENDING_AFTER_SECONDS", default=600)
# ... looking back this far: an invoice issued before without its PDF gets it on its first download.
DISPATCH_PENDING_WITHIN_SECONDS = env.int("DISPATCH_PENDING_WITHIN_SECONDS", default=2 * 24 * 3600)
# Events and webhooks (events/). Events are kept this many days for GET /api/v1/events and replays.
EVENTS_RETENTION_DAYS = env.int("EVENTS_RETENTION_DAYS", default=90)
# Seconds to wait before each retry of a failed delivery (Standard Webhooks' schedule, stretched to three
# days); each wait gets up to WEBHOOK_RETRY_JITTER of itself added at random. After the last retry fails the
# delivery is given up, the endpoint disabled and the administrators e-mailed.
WEBHOOK_RETRY_SCHEDULE = [
    int(s) for s in env.list("WEBHOOK_RETRY_SCHEDULE", default=["5", "300", "1800", "7200", "18000", "30000",
                                                                    "36000", "36000", "43200", "86400"])
]  # fmt: skip
WEBHOOK_RETRY_JITTER = env.float("WEBHOOK_RETRY_JITTER", default=0.1)
# A receiver gets this long to accept the connection and to answer: a slow one does not hold a worker.
WEBHOOK_CONNECT_TIMEOUT = env.float("WEBHOOK_CONNECT_TIMEOUT", default=3.0)
WEBHOOK_READ_TIMEOUT = env.float("WEBHOOK_READ_TIMEOUT", default=5.0)
# Endpoints must be https and resolve to public addresses, except on these hosts (names or addresses),
# which may also use http: `make run` lists 127.0.0.1 so that a receiver on the same machine can be tried.
WEBHOOK_ALLOWED_HOSTS = env.list("WEBHOOK_ALLOWED_HOSTS", default=[])
# After a secret is rotated, the previous one keeps signing beside the new one for this many hours.
WEBHOOK_SECRET_OVERLAP_HOURS = env.int("WEBHOOK_SECRET_OVERLAP_HOURS", default=24)
# How much of a receiver's answer each attempt keeps in its log.
WEBHOOK_RESPONSE_EXCERPT_CHARS = env.int("WEBHOOK_RESPONSE_EXCERPT_CHARS", default=500)

CELERY_BEAT_SCHEDULE = {
    "charge-requests-closing-rule": {
        "task": "contracts.tasks.apply_closing_rule",
        "schedule": crontab(hour=2, minute=0),
    },
    "service-periods-lapse": {
        "task": "contracts.tasks.mark_lapsed_periods",
        "schedule": crontab(hour=1, minute=0),
    },
    "renewal-reminders": {
        "task": "contracts.tasks.send_renewal_reminders",
        "schedule": crontab(hour=8, minute=0),
    },
    "renewal-quote-drafts": {
        "task": "quotes.tasks.draft_renewal_quotes",
        "schedule": crontab(hour=8, minute=15),
    },
    "quotes-closing-rule": {
        "task": "quotes.tasks.apply_closing_rule",
        "schedule": crontab(hour=2, minute=15),
    },
    "overdue-invoice-reminders": {
        "task": "invoices.tasks.send_overdue_reminders",
        "schedule": crontab(hour=9, minute=30),
    },
    "idempotency-records-purge": {
        "task": "billing.tasks.purge_idempotency_records",
        "schedule": crontab(hour=3, minute=30),
    },
    "red-letter-forms-expire": {
        "task": "invoices.tasks.void_unconfirmed_red_letter_forms",
        "schedule": crontab(minute="20"),
    },
    "pending-work-dispatch": {
        "task": "invoices.tasks.dispatch_pending_work",
        "schedule": crontab(minute="*/10"),
    },
    "pending-quote-pdfs-dispatch": {
        "task": "quotes.tasks.dispatch_pending_pdfs",
        "schedule": crontab(minute="5-59/10"),
    },
    "webhook-deliveries-due": {
        "task": "events.tasks.send_due_deliveries",
        "schedule": crontab(minute="*"),
    },
    "events-purge": {
        "task": "events.tasks.purge_events",
        "schedule": crontab(hour=3, minute=45),
    },
    "calendar-schedule-check": {
        "task": "catalog.tasks.warn_unpublished_calendar_years",
        "schedule": crontab(hour=9, minute=0),
    },
}

# Audit history (django-simple-history): the admin's history pages need the permissions of the historical
# models, which only the administrator role holds (billing.roles); reverting from the history is off, since
# documents change only through their services.
SIMPLE_HISTORY_ENFORCE_HISTORY_MODEL_PERMISSIONS = True
SIMPLE_HISTORY_REVERT_DISABLED = True

# Production hardening; `DEBUG=false manage.py check --deploy` reads these.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    # WeasyPrint reports every layout step at INFO.
    "loggers": {
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
    },
}

# Bulk actions on the staff lists (issue drafts, remind, approve or reject): a larger selection is refused
# as a whole (invoices.bulk).
BULK_ACTION_MAX = env.int("BULK_ACTION_MAX", default=200)
