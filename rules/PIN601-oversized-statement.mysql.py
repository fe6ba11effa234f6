# pinlint-test: target=rds-proxy dialect=mysql max-statement-bytes=120
# This example lowers the limit to 120 bytes so that it stays readable; the
# default is RDS Proxy's 16,384 bytes, the same for MySQL as for PostgreSQL.
import pymysql

# %% bad: a literal list longer than the limit
def load(cur):
    cur.execute(  # expect: PIN601
        "SELECT * FROM users WHERE id IN (101, 102, 103, 104, 105, 106, 107, 108, 109, 110, "
        "111, 112, 113, 114, 115, 116, 117, 118, 119, 120)"
    )


# %% good: smaller batches
def load_batch(cur, batch):
    cur.execute("SELECT * FROM users WHERE id IN (%s, %s, %s)", batch)
