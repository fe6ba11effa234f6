# pinlint-test: target=rds-proxy dialect=postgres
import psycopg2

# %% bad: a reset query run on every release
def reset(cur):
    cur.execute("DISCARD ALL")  # expect: PIN202


# %% bad: discarding part of the state
def reset_parts(cur):
    cur.execute("DISCARD PLANS")  # expect: PIN202
    cur.execute("DISCARD TEMP")  # expect: PIN202


# %% good: ending the transaction is enough
def finish(conn):
    conn.rollback()
    conn.cursor().execute("ROLLBACK")
