# pinlint-test: target=rds-proxy dialect=postgres max-statement-bytes=120
# This example lowers the limit to 120 bytes so that it stays readable; the
# default is RDS Proxy's 16,384 bytes.
import psycopg2

# %% bad: a literal list longer than the limit
def load(cur):
    cur.execute(  # expect: PIN601; db: no-state -- flagged for its size, which the database does not show
        "SELECT * FROM users WHERE id IN (101, 102, 103, 104, 105, 106, 107, 108, 109, 110, "
        "111, 112, 113, 114, 115, 116, 117, 118, 119, 120)"
    )


# %% good: one array parameter
def load_any(cur, ids):
    cur.execute("SELECT * FROM users WHERE id = ANY(%s)", (ids,))  # db: values=ARRAY[101, 102]
