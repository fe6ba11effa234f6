# pinlint-test: target=rds-proxy dialect=postgres
import psycopg2

# %% bad: a cursor declared in SQL
def stream(cur):
    cur.execute("BEGIN")
    cur.execute("DECLARE big CURSOR FOR SELECT * FROM events")  # expect: PIN302
    cur.execute("FETCH 1000 FROM big")


# %% bad: WITH HOLD outlives the transaction
def stream_held(cur):
    cur.execute("DECLARE big NO SCROLL CURSOR WITH HOLD FOR SELECT * FROM events")  # expect: PIN302


# %% good: keyset pagination
def page(cur, after):
    cur.execute("SELECT * FROM events WHERE id > %s ORDER BY id LIMIT 1000", (after,))


# %% good: a PL/pgSQL DECLARE section is not a cursor
def plpgsql(cur):
    cur.execute("DO $$ DECLARE n int; BEGIN SELECT count(*) INTO n FROM events; END $$")
