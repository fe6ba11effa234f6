# pinlint-test: target=pgbouncer dialect=postgres
from sqlalchemy import create_engine, event

engine = create_engine("postgresql+psycopg2://app@pgbouncer.internal:6432/shop")


# %% bad: PgBouncer before 1.26 does not track search_path: the SET stays on one server connection
@event.listens_for(engine, "connect")  # expect: PIN701
def set_search_path(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    cursor.execute("SET search_path TO app, public")


# %% good: PgBouncer tracks the time zone and re-applies it per client
@event.listens_for(engine, "connect")
def set_time_zone(dbapi_connection, connection_record):
    cursor = dbapi_connection.cursor()
    cursor.execute("SET TIME ZONE 'UTC'")
