# pinlint-test: target=pgbouncer dialect=postgres
import psycopg2

# %% bad: SQL-level PREPARE, EXECUTE and DEALLOCATE, each on any server connection
def lookup_many(cur, ids):
    cur.execute("PREPARE by_id (int) AS SELECT * FROM users WHERE id = $1")  # expect: PIN201
    for i in ids:
        cur.execute("EXECUTE by_id (%s)", (i,))  # expect: PIN201
    cur.execute("DEALLOCATE by_id")  # expect: PIN201


# %% bad: DEALLOCATE ALL clears another client's statements (fine from 1.22 with max_prepared_statements)
def clear(cur):
    cur.execute("PREPARE by_id (int) AS SELECT * FROM users WHERE id = $1")  # expect: PIN201
    cur.execute("DEALLOCATE ALL")  # expect: PIN201


# %% good: driver parameters instead of PREPARE
def lookup(cur, i):
    cur.execute("SELECT * FROM users WHERE id = %s", (i,))

