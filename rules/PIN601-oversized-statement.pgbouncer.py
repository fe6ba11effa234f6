# pinlint-test: target=pgbouncer dialect=postgres max-statement-bytes=120
import psycopg2

# %% good: PgBouncer has no size limit that changes how it pools
def load(cur):
    cur.execute(
        "SELECT * FROM users WHERE id IN (101, 102, 103, 104, 105, 106, 107, 108, 109, 110, "
        "111, 112, 113, 114, 115, 116, 117, 118, 119, 120)"
    )
