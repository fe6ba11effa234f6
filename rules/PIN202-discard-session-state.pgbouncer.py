# pinlint-test: target=pgbouncer dialect=postgres pgbouncer-version=1.21 max-prepared-statements=100
# PgBouncer 1.21 with prepared-statement tracking on: DISCARD ALL drops the statements
# PgBouncer prepared on the server connection. 1.22 and later handle it.
import psycopg2

# %% bad: a reset query that breaks PgBouncer 1.21's prepared-statement tracking
def reset(cur):
    cur.execute("DISCARD ALL")  # expect: PIN202


# %% good: clearing temporary tables or cached plans only touches the server connection
def reset_parts(cur):
    cur.execute("DISCARD TEMP")
    cur.execute("DISCARD PLANS")
