# pinlint-test: target=pgbouncer dialect=postgres
import psycopg2

# %% bad: WITH HOLD keeps the cursor on the server connection after COMMIT
def stream_held(cur):
    cur.execute("DECLARE big CURSOR WITH HOLD FOR SELECT * FROM events")  # expect: PIN302


# %% good: a cursor without hold closes with its transaction
def stream(cur):
    cur.execute("BEGIN")
    cur.execute("DECLARE big CURSOR FOR SELECT * FROM events")
    cur.execute("FETCH 1000 FROM big")
    cur.execute("COMMIT")
