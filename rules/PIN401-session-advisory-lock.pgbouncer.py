# pinlint-test: target=pgbouncer dialect=postgres
import psycopg2

# %% bad: the lock stays with the server connection, for its next client
def run_exclusive(cur):
    cur.execute("SELECT pg_advisory_lock(42)")  # expect: PIN401


# %% bad: the unlock may run on another server connection than the lock
def lock_then_unlock(cur):
    cur.execute("SELECT pg_advisory_lock(42)")  # expect: PIN401
    cur.execute("SELECT count(*) FROM events")
    cur.execute("SELECT pg_advisory_unlock(42)")  # expect: PIN401


# %% good: the transaction-level lock is released at commit
def run_exclusive_tx(cur):
    cur.execute("BEGIN")
    cur.execute("SELECT pg_advisory_xact_lock(42)")
    cur.execute("COMMIT")
