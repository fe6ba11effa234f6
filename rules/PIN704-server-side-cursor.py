# pinlint-test: target=rds-proxy dialect=postgres
import psycopg2
from sqlalchemy import create_engine, select


# %% bad: Django's QuerySet.iterator() declares a cursor on this database
DATABASES = {  # expect: PIN704
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
    },
}


# %% bad: a named psycopg2 cursor is a DECLARE ... CURSOR
def export(conn):
    with conn.cursor("export_orders") as cur:  # expect: PIN704
        cur.execute("SELECT * FROM orders")
        yield from cur


# %% bad: SQLAlchemy streaming uses a named cursor on psycopg2
engine = create_engine("postgresql+psycopg2://app@db.internal/shop")


def stream(orders):
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True).execute(select(orders))  # expect: PIN704
        yield from result


# %% good: a client-side cursor and keyset pagination
def export_pages(conn, after=0):
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM orders WHERE id > %s ORDER BY id LIMIT 1000", (after,))
        return cur.fetchall()


# %% good: Django told not to use server-side cursors
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "DISABLE_SERVER_SIDE_CURSORS": True,
    },
}
