# pinlint-test: target=pgbouncer dialect=postgres
import psycopg2

# %% bad: currval in a later transaction reads whichever server connection it gets
def insert_order(cur, total):
    cur.execute("INSERT INTO orders (id, total) VALUES (nextval('order_seq'), %s)", (total,))
    cur.execute("SELECT currval('order_seq')")  # expect: PIN305


# %% bad: lastval after an autocommit INSERT
def last_id(cur, total):
    cur.execute("INSERT INTO orders (id, total) VALUES (nextval('order_seq'), %s)", (total,))
    cur.execute("SELECT lastval()")  # expect: PIN305


# %% good: nextval returns the caller's value
def next_order_id(cur):
    cur.execute("SELECT nextval('order_seq')")


# %% good: return the id from the INSERT itself
def insert_returning(cur, total):
    cur.execute("INSERT INTO orders (id, total) VALUES (nextval('order_seq'), %s) RETURNING id", (total,))
