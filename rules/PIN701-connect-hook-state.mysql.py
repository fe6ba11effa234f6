# pinlint-test: target=rds-proxy dialect=mysql
import pymysql
from sqlalchemy import create_engine

# %% bad: init_command sets a variable RDS Proxy does not track
conn = pymysql.connect(  # expect: PIN701
    host="db.internal",
    user="app",
    init_command="SET SESSION group_concat_max_len = 1000000",
)

# %% bad: the same through SQLAlchemy's connect_args
engine = create_engine(  # expect: PIN701
    "mysql+pymysql://app@db.internal/shop",
    connect_args={"init_command": "SET foreign_key_checks = 0"},
)

# %% good: RDS Proxy tracks sql_mode, time_zone and the character set
conn = pymysql.connect(
    host="db.internal",
    user="app",
    init_command="SET sql_mode = 'STRICT_TRANS_TABLES', time_zone = '+00:00'",
)
