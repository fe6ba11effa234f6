# pinlint-test: target=rds-proxy dialect=postgres
import psycopg
from psycopg import connect as pg_connect
from psycopg_pool import ConnectionPool
from sqlalchemy import create_engine

DSN = "postgresql://app@db.internal/shop"


# %% bad: psycopg 3 prepares after 5 runs and sends DEALLOCATE ALL on rollback
def connect():
    return psycopg.connect(DSN, autocommit=False)  # expect: PIN702


# %% bad: an alias, a pool and a SQLAlchemy engine on psycopg 3
conn = pg_connect(DSN)  # expect: PIN702
pool = ConnectionPool(DSN, kwargs={"autocommit": True})  # expect: PIN702
engine = create_engine("postgresql+psycopg://app@db.internal/shop")  # expect: PIN702


# %% bad: a query prepared explicitly
def top_orders(conn):
    return conn.execute("SELECT * FROM orders LIMIT 10", prepare=True)  # expect: PIN702


# %% good: prepare_threshold=None turns prepared statements off
conn = psycopg.connect(DSN, prepare_threshold=None)
pool = ConnectionPool(DSN, kwargs={"autocommit": True, "prepare_threshold": None})
engine = create_engine(
    "postgresql+psycopg://app@db.internal/shop",
    connect_args={"prepare_threshold": None},
)


# %% good: psycopg2 and the default SQLAlchemy driver never prepare
engine = create_engine("postgresql://app@db.internal/shop")
