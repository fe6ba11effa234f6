# pinlint-test: target=rds-proxy dialect=postgres
import asyncpg as apg
from sqlalchemy.ext.asyncio import create_async_engine

DSN = "postgresql://app@db.internal/shop"
POOL_SETTINGS = {"min_size": 1, "max_size": 10}


# %% bad: asyncpg's default cache keeps 100 named statements per connection
async def connect():
    return await apg.connect(DSN)  # expect: PIN703


async def make_pool():
    return await apg.create_pool(DSN, **POOL_SETTINGS)  # expect: PIN703


# %% bad: SQLAlchemy's asyncpg dialect caches prepared statements too
engine = create_async_engine("postgresql+asyncpg://app@db.internal/shop")  # expect: PIN703


# %% bad: an explicit prepared statement
async def count(conn):
    stmt = await conn.prepare("SELECT count(*) FROM orders")  # expect: PIN703
    return await stmt.fetchval()


# %% good: caches off
async def connect_uncached():
    return await apg.connect(DSN, statement_cache_size=0)


engine = create_async_engine(
    "postgresql+asyncpg://app@db.internal/shop",
    connect_args={"statement_cache_size": 0, "prepared_statement_cache_size": 0},
)
