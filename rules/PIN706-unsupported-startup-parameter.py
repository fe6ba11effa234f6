# pinlint-test: target=rds-proxy dialect=postgres
import asyncpg
import psycopg2
from sqlalchemy import create_engine

# %% bad: a statement timeout sent as a command-line option
conn = psycopg2.connect(host="proxy.internal", dbname="shop", options="-c statement_timeout=5000")  # expect: PIN706

# %% bad: the same in a connection string and in SQLAlchemy's connect_args
conn = psycopg2.connect("host=proxy.internal dbname=shop options='-c search_path=app'")  # expect: PIN706
engine = create_engine(  # expect: PIN706
    "postgresql+psycopg2://app@proxy.internal/shop",
    connect_args={"options": "-c lock_timeout=2000"},
)


# %% bad: asyncpg sends server_settings, and unknown DSN parameters, as startup parameters
async def connect():
    return await asyncpg.connect(  # expect: PIN706
        "postgresql://app@proxy.internal/shop",
        server_settings={"jit": "off"},
        statement_cache_size=0,
    )


async def connect_dsn():
    return await asyncpg.connect("postgresql://app@proxy.internal/shop?idle_session_timeout=60000", statement_cache_size=0)  # expect: PIN706


# %% good: the parameters RDS Proxy accepts, and settings made role defaults
# ALTER ROLE app SET statement_timeout = '5s';
async def connect_accepted():
    return await asyncpg.connect(
        "postgresql://app@proxy.internal/shop?sslmode=require",
        server_settings={"application_name": "api", "search_path": "app,public"},
        statement_cache_size=0,
    )


conn = psycopg2.connect(host="proxy.internal", dbname="shop", application_name="api")
