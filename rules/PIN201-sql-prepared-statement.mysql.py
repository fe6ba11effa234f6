# pinlint-test: target=rds-proxy dialect=mysql
import pymysql

# %% bad: SQL-level PREPARE, EXECUTE and DEALLOCATE
def lookup_many(cur, ids):
    cur.execute("PREPARE by_id FROM 'SELECT * FROM users WHERE id = ?'")  # expect: PIN201
    for i in ids:
        cur.execute("SET @id = %s", (i,))
        cur.execute("EXECUTE by_id USING @id")  # expect: PIN201
    cur.execute("DEALLOCATE PREPARE by_id")  # expect: PIN201


# %% bad: DROP PREPARE is the same clean-up
def drop(cur):
    cur.execute("PREPARE total FROM 'SELECT SUM(total) FROM orders'")  # expect: PIN201
    cur.execute("DROP PREPARE total")  # expect: PIN201


# %% good: PyMySQL interpolates parameters on the client
def lookup(cur, i):
    cur.execute("SELECT * FROM users WHERE id = %s", (i,))
