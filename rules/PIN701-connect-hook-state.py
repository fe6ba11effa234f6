# pinlint-test: target=rds-proxy dialect=postgres
import asyncpg
from django.db.backends.signals import connection_created
from django.dispatch import receiver
from sqlalchemy import create_engine, event

engine = create_engine("postgresql+psycopg2://app@db.internal/shop")


# %% bad: SQLAlchemy's search-path recipe runs a SET on every new connection
@event.listens_for(engine, "connect")  # expect: PIN701
def set_search_path(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION search_path TO app, public")
    cursor.close()


# %% bad: a listener registered with event.listen runs on every checkout
def lock_tenant(dbapi_connection, connection_record):
    dbapi_connection.cursor().execute("SELECT pg_advisory_lock(42)")


event.listen(engine, "checkout", lock_tenant)  # expect: PIN701


# %% bad: a Django receiver that sets a session parameter
@receiver(connection_created)  # expect: PIN701
def set_statement_timeout(sender, connection, **kwargs):
    with connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = '5s'")


# %% good: a connect hook that only reads
@event.listens_for(engine, "connect")
def log_server_version(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    cursor.execute("SELECT version()")


# %% good: the search path as a startup parameter RDS Proxy accepts
async def make_pool():
    return await asyncpg.create_pool(
        "postgresql://app@db.internal/shop",
        server_settings={"search_path": "app,public"},
        statement_cache_size=0,
    )
