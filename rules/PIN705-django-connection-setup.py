# pinlint-test: target=rds-proxy dialect=postgres
# Django settings: every DATABASES entry below is a separate example.

# %% bad: Django sends SET ROLE on every new connection
DATABASES = {  # expect: PIN705
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "OPTIONS": {"assume_role": "shop_owner"},
    },
}

# %% bad: a database time zone the server does not have makes Django set it on connect
DATABASES = {  # expect: PIN705
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "TIME_ZONE": "Europe/Paris",
    },
}

# %% bad: with psycopg2, an explicit isolation level is reset with SET at each transaction
DATABASES = {  # expect: PIN705
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "OPTIONS": {"isolation_level": 3},
    },
}

# %% good: the defaults send nothing (USE_TZ = True runs connections in UTC)
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop_owner",
    },
}
