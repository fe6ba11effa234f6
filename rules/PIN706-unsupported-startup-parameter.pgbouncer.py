# pinlint-test: target=pgbouncer dialect=postgres
import asyncpg
import psycopg2

# %% bad: PgBouncer does not track statement_timeout, so it refuses the options
conn = psycopg2.connect(host="pgbouncer.internal", port=6432, options="-c statement_timeout=5000")  # expect: PIN706


# %% bad: an untracked startup parameter
async def connect():
    return await asyncpg.connect("postgresql://app@pgbouncer.internal:6432/shop", server_settings={"jit": "off"}, statement_cache_size=0)  # expect: PIN706


# %% good: PgBouncer 1.20+ accepts options that set parameters it tracks
conn = psycopg2.connect(host="pgbouncer.internal", port=6432, options="-c TimeZone=UTC")


async def connect_tracked():
    return await asyncpg.connect("postgresql://app@pgbouncer.internal:6432/shop", server_settings={"application_name": "api"}, statement_cache_size=0)
