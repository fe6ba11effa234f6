# pinlint-test: target=pgbouncer dialect=postgres
import psycopg2

# %% bad: a temporary table outlives the transaction on the server connection
def stage(cur):
    cur.execute("CREATE TEMP TABLE staging (id int, payload jsonb)")  # expect: PIN301


# %% bad: ON COMMIT DELETE ROWS keeps the table itself
def stage_rows(cur):
    cur.execute("CREATE TEMPORARY TABLE batch (id int) ON COMMIT DELETE ROWS")  # expect: PIN301


# %% bad: SELECT INTO TEMP and temporary views and sequences
def snapshot(cur):
    cur.execute("SELECT id, total INTO TEMP recent FROM orders")  # expect: PIN301
    cur.execute("CREATE TEMP VIEW v_recent AS SELECT * FROM orders")  # expect: PIN301
    cur.execute("CREATE TEMPORARY SEQUENCE batch_seq")  # expect: PIN301


# %% good: ON COMMIT DROP inside one transaction
def stage_tx(cur):
    cur.execute("BEGIN")
    cur.execute("CREATE TEMP TABLE staging (id int) ON COMMIT DROP")
    cur.execute("INSERT INTO staging SELECT id FROM orders")
    cur.execute("COMMIT")
