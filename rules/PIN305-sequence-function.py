# pinlint-test: target=rds-proxy dialect=postgres
import psycopg2

# %% bad: asking the sequence for the next id
def next_order_id(cur):
    cur.execute("SELECT nextval('order_seq')")  # expect: PIN305


# %% bad: nextval inside an INSERT, and reading it back
def insert_order(cur, total):
    cur.execute("INSERT INTO orders (id, total) VALUES (nextval('order_seq'), %s)", (total,))  # expect: PIN305
    cur.execute("SELECT currval('order_seq')")  # expect: PIN305; db: no-state -- currval only reads the state nextval left; flagged with it (reference PG-16)


# %% bad: resetting a sequence
def restart(cur):
    cur.execute("SELECT setval('order_seq', 1000)")  # expect: PIN305


# %% good: let the default produce the id and return it
def insert_returning(cur, total):
    cur.execute("INSERT INTO orders (total) VALUES (%s) RETURNING id", (total,))


# %% good: DEFAULT nextval in DDL is stored, not run
def migrate(cur):
    cur.execute("CREATE TABLE invoices (id bigint DEFAULT nextval('order_seq') PRIMARY KEY, total numeric)")
