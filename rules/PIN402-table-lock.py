# pinlint-test: target=rds-proxy dialect=mysql
import pymysql

# %% bad: table locks held by the session, and their release
def rebuild_totals(cur):
    cur.execute("LOCK TABLES orders WRITE, order_totals WRITE")  # expect: PIN402
    cur.execute("DELETE FROM order_totals")
    cur.execute("UNLOCK TABLES")  # expect: PIN402


# %% bad: a global read lock for a backup
def backup(cur):
    cur.execute("FLUSH TABLES WITH READ LOCK")  # expect: PIN402
    cur.execute("UNLOCK TABLES")  # expect: PIN402


# %% good: row locks inside a transaction
def rebuild_totals_tx(cur):
    cur.execute("START TRANSACTION")
    cur.execute("SELECT * FROM order_totals FOR UPDATE")
    cur.execute("DELETE FROM order_totals")
    cur.execute("COMMIT")


# %% good: a shared row lock ends with its transaction
def read_locked(cur):
    cur.execute("START TRANSACTION")
    cur.execute("SELECT * FROM orders WHERE id = 1 LOCK IN SHARE MODE")
    cur.execute("COMMIT")
