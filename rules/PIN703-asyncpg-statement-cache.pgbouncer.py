# pinlint-test: target=pgbouncer dialect=postgres
from uuid import uuid4

import asyncpg
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

DSN = "postgresql://app@pgbouncer.internal:6432/shop"


# %% bad: cached named statements are missing on the next server connection
async def make_pool():
    return await asyncpg.create_pool(DSN)  # expect: PIN703


# %% bad: the cache is off, but the dialect's statement names still collide
engine = create_async_engine(  # expect: PIN703
    "postgresql+asyncpg://app@pgbouncer.internal:6432/shop",
    connect_args={"statement_cache_size": 0, "prepared_statement_cache_size": 0},
)


# %% good: asyncpg uses unnamed statements without its cache
async def make_uncached_pool():
    return await asyncpg.create_pool(DSN, statement_cache_size=0)


# %% good: SQLAlchemy's documented PgBouncer recipe
engine = create_async_engine(
    "postgresql+asyncpg://app@pgbouncer.internal:6432/shop",
    poolclass=NullPool,
    connect_args={
        "statement_cache_size": 0,
        "prepared_statement_cache_size": 0,
        "prepared_statement_name_func": lambda: f"__asyncpg_{uuid4()}__",
    },
)
