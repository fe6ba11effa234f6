# pinlint-test: target=rds-proxy dialect=postgres
import asyncpg

DSN = "postgresql://app@proxy.internal/shop"


# %% bad: every release sends SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;
async def make_pool():
    return await asyncpg.create_pool(DSN, statement_cache_size=0)  # expect: PIN708


class LoggingConnection(asyncpg.Connection):
    def log(self, message):
        print(message)


async def make_logging_pool():
    return await asyncpg.create_pool(DSN, connection_class=LoggingConnection, statement_cache_size=0)  # expect: PIN708


# %% good: a connection class without the reset query
class NoResetConnection(asyncpg.Connection):
    def get_reset_query(self):
        return ""


async def make_quiet_pool():
    return await asyncpg.create_pool(DSN, connection_class=NoResetConnection, statement_cache_size=0)


# %% good: asyncpg 0.30+ calls reset= instead of sending the reset query
async def forget(connection):
    pass


async def make_pool_with_reset():
    return await asyncpg.create_pool(DSN, reset=forget, statement_cache_size=0)
