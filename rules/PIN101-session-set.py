# pinlint-test: target=rds-proxy dialect=postgres
import psycopg

# %% bad: session-scoped SET through a DB-API cursor
def use_tenant_schema(cur):
    cur.execute("SET search_path TO tenant_42, public")  # expect: PIN101


# %% bad: the special SET forms
def session_defaults(conn: psycopg.Connection):
    conn.execute("SET TIME ZONE 'UTC'")  # expect: PIN101
    conn.execute("SET SESSION statement_timeout = '5s'")  # expect: PIN101
    conn.execute("SET ROLE app_rw")  # expect: PIN101
    conn.execute("SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE")  # expect: PIN101


# %% bad: resetting counts as changing
def back_to_defaults(cur):
    cur.execute("RESET ALL")  # expect: PIN101; db: setup=SET statement_timeout = '5s'
    cur.execute("SET work_mem TO DEFAULT")  # expect: PIN101; db: setup=SET work_mem = '8MB'


# %% bad: the parameter comes from a variable
def use_schema(cur, schema):
    cur.execute(f"SET search_path TO {schema}")  # expect: PIN101


# %% good: SET inside DML and DDL is not a session SET
def update_and_configure(cur):
    cur.execute("UPDATE accounts SET balance = balance - 10 WHERE id = %s", (7,))
    cur.execute("ALTER ROLE app SET search_path = app, public")
    cur.execute("ALTER TABLE orders ALTER COLUMN note SET DEFAULT ''")


# %% good: reading a setting changes nothing
def read_settings(cur):
    cur.execute("SHOW search_path")
    cur.execute("SELECT current_setting('TimeZone')")


# %% good: a SET that is only logged, never executed
def explain(log):
    log.info("run SET search_path TO app before this job")
