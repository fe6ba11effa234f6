# pinlint-test: target=pgbouncer dialect=postgres
import psycopg2

# %% bad: a parameter PgBouncer does not track stays on the server connection
def slow_report(cur):
    cur.execute("SET statement_timeout = '5min'")  # expect: PIN101
    cur.execute("SELECT count(*) FROM events")


# %% bad: the next client of the server connection runs as this role
def as_writer(cur):
    cur.execute("SET ROLE app_rw")  # expect: PIN101


# %% bad: search_path is tracked only from PgBouncer 1.26
def use_tenant_schema(cur):
    cur.execute("SET search_path TO tenant_42, public")  # expect: PIN101


# %% bad: the clean-up may run on another server connection than the SET
def report_then_reset(cur):
    cur.execute("SET work_mem = '256MB'")  # expect: PIN101
    cur.execute("SELECT count(*) FROM events")
    cur.execute("RESET work_mem")  # expect: PIN101


# %% bad: PgBouncer does not re-apply an empty application_name, so other clients inherit it
def name_the_session(cur):
    cur.execute("SET application_name = 'reports'")  # expect: PIN101


# %% good: parameters PgBouncer re-applies for each client
def client_settings(cur):
    cur.execute("SET TIME ZONE 'America/New_York'")
    cur.execute("SET DateStyle = 'SQL, DMY'")
    cur.execute("SET NAMES 'UTF8'")


# %% good: SET LOCAL ends with the transaction
def slow_report_tx(cur):
    cur.execute("BEGIN")
    cur.execute("SET LOCAL statement_timeout = '5min'")
    cur.execute("SELECT count(*) FROM events")
    cur.execute("COMMIT")
