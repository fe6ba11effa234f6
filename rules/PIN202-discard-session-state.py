# pinlint-test: target=rds-proxy dialect=postgres
import psycopg2

# %% bad: a reset query run on every release
def reset(cur):
    cur.execute("DISCARD ALL")  # expect: PIN202; db: setup=PREPARE q AS SELECT 1


# %% bad: discarding part of the state
def reset_parts(cur):
    cur.execute("DISCARD PLANS")  # expect: PIN202; db: no-state -- cached plans are not visible in the catalogs
    cur.execute("DISCARD TEMP")  # expect: PIN202; db: setup=CREATE TEMP TABLE scratch (a int)


# %% good: ending the transaction is enough
def finish(conn):
    conn.rollback()
    conn.cursor().execute("ROLLBACK")
