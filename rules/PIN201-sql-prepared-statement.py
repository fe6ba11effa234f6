# pinlint-test: target=rds-proxy dialect=postgres
import psycopg2

# %% bad: SQL-level PREPARE, EXECUTE and DEALLOCATE
def lookup_many(cur, ids):
    cur.execute("PREPARE by_id (int) AS SELECT * FROM users WHERE id = $1")  # expect: PIN201
    for i in ids:
        cur.execute("EXECUTE by_id (%s)", (i,))  # expect: PIN201; db: no-state -- runs the statement that PREPARE left in the session
    cur.execute("DEALLOCATE by_id")  # expect: PIN201


# %% bad: clearing every prepared statement
def clear(cur):
    cur.execute("DEALLOCATE ALL")  # expect: PIN201; db: setup=PREPARE q AS SELECT 1


# %% good: driver parameters instead of PREPARE
def lookup(cur, i):
    cur.execute("SELECT * FROM users WHERE id = %s", (i,))


# %% good: two-phase commit is not a prepared statement
def two_phase(cur):
    cur.execute("BEGIN")
    cur.execute("INSERT INTO users (id) VALUES (7)")
    cur.execute("PREPARE TRANSACTION 'batch-7'")  # db: error-ok -- needs max_prepared_transactions > 0
    cur.execute("COMMIT PREPARED 'batch-7'")  # db: error-ok -- needs the prepared transaction


# %% good: EXECUTE inside a PL/pgSQL body runs inside the server
def dynamic(cur):
    cur.execute("DO $$ BEGIN EXECUTE 'ANALYZE orders'; END $$")
