# pinlint-test: target=pgbouncer dialect=postgres

# %% bad: SET ROLE stays on the server connection for its next client
DATABASES = {  # expect: PIN705
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "OPTIONS": {"assume_role": "shop_owner"},
        "DISABLE_SERVER_SIDE_CURSORS": True,
    },
}

# %% good: PgBouncer tracks the time zone and re-applies it per client
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "TIME_ZONE": "Europe/Paris",
        "DISABLE_SERVER_SIDE_CURSORS": True,
    },
}
