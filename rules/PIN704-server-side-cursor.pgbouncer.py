# pinlint-test: target=pgbouncer dialect=postgres
import psycopg

# %% bad: Django declares WITH HOLD cursors outside atomic(), which outlive the transaction
DATABASES = {  # expect: PIN704
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "HOST": "pgbouncer.internal",
        "PORT": 6432,
    },
}


# %% bad: a cursor WITH HOLD outlives its transaction on one server connection
def export(conn):
    with conn.cursor("export_orders", withhold=True) as cur:  # expect: PIN704
        cur.execute("SELECT * FROM orders")
        return cur.fetchmany(1000)


# %% good: a named cursor without hold, inside its transaction
def export_in_transaction(conn):
    with conn.transaction(), conn.cursor("export_orders") as cur:
        cur.execute("SELECT * FROM orders")
        return cur.fetchmany(1000)


# %% good: Django with server-side cursors turned off
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "DISABLE_SERVER_SIDE_CURSORS": True,
    },
}
