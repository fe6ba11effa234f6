# pinlint-test: target=rds-proxy dialect=postgres
import psycopg2

# %% bad: a session-level advisory lock and its unlock
def run_exclusive(cur):
    cur.execute("SELECT pg_advisory_lock(42)")  # expect: PIN401
    cur.execute("SELECT pg_advisory_unlock(42)")  # expect: PIN401


# %% bad: try-lock and the shared forms
def try_job(cur, key):
    cur.execute("SELECT pg_try_advisory_lock(%s)", (key,))  # expect: PIN401
    cur.execute("SELECT pg_advisory_lock_shared(%s)", (key,))  # expect: PIN401


# %% good: the transaction-level lock is released at commit
def run_exclusive_tx(cur):
    cur.execute("BEGIN")
    cur.execute("SELECT pg_advisory_xact_lock(42)")
    cur.execute("SELECT pg_try_advisory_xact_lock_shared(42)")
    cur.execute("COMMIT")


# %% good: LOCK TABLE is transaction-scoped in PostgreSQL
def lock_table(cur):
    cur.execute("LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE")
