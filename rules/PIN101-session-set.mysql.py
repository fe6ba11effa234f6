# pinlint-test: target=rds-proxy dialect=mysql
import pymysql

# %% bad: variables RDS Proxy does not track
def bulk_load(cur):
    cur.execute("SET foreign_key_checks = 0")  # expect: PIN101
    cur.execute("SET SESSION group_concat_max_len = 1000000")  # expect: PIN101


# %% bad: SET TRANSACTION without SESSION sets the next transaction only
def serializable_next(cur):
    cur.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")  # expect: PIN101
    cur.execute("START TRANSACTION")
    cur.execute("SELECT COUNT(*) FROM orders")
    cur.execute("COMMIT")


# %% bad: one untracked variable in a list of tracked ones
def connection_setup(cur):
    cur.execute("SET autocommit = 1, innodb_lock_wait_timeout = 5, time_zone = '+00:00'")  # expect: PIN101


# %% good: variables RDS Proxy tracks
def tracked(cur):
    cur.execute("SET NAMES utf8mb4")
    cur.execute("SET time_zone = '+00:00'")
    cur.execute("SET SESSION sql_mode = 'STRICT_TRANS_TABLES'")
    cur.execute("SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED")
    cur.execute("USE shop")


# %% good: SET inside DML, and reading settings
def update_and_read(cur):
    cur.execute("UPDATE accounts SET balance = balance - 10 WHERE id = %s", (7,))
    cur.execute("INSERT INTO counters (id, n) VALUES (1, 1) ON DUPLICATE KEY UPDATE n = n + 1")
    cur.execute("SHOW VARIABLES LIKE 'sql_mode'")
    cur.execute("SELECT @@session.sql_mode")
