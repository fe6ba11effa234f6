# pinlint-test: target=rds-proxy dialect=postgres
import json
import os

import psycopg2
from sqlalchemy import text

conn = psycopg2.connect(os.environ["DATABASE_URL"])


# %% bad: a Lambda handler returns with the transaction open
def lambda_handler(event, context):
    cursor = conn.cursor()
    cursor.execute("BEGIN")  # expect: PIN501
    cursor.execute("INSERT INTO orders (body) VALUES (%s)", (json.dumps(event),))
    return {"statusCode": 201}


# %% good: commit, roll back on any error and re-raise, release the cursor
def handler(event, context):
    cursor = conn.cursor()
    try:
        cursor.execute("BEGIN")
        cursor.execute("INSERT INTO orders (body) VALUES (%s)", (json.dumps(event),))
        cursor.execute("COMMIT")
    except Exception:
        cursor.execute("ROLLBACK")
        raise
    finally:
        cursor.close()
    return {"statusCode": 201}


# %% bad: an early return in a loop skips the commit
def import_rows(rows):
    cur = conn.cursor()
    cur.execute("BEGIN")  # expect: PIN501
    for row in rows:
        if row is None:
            return False
        cur.execute("INSERT INTO items (value) VALUES (%s)", (row,))
    cur.execute("COMMIT")
    return True


# %% bad: an error between BEGIN and COMMIT leaves the transaction open
def rename(user_id, name):
    cur = conn.cursor()
    cur.execute("BEGIN")  # expect: PIN501
    cur.execute("UPDATE users SET name = %s WHERE id = %s", (name, user_id))
    cur.execute("COMMIT")


# %% good: the connection's context manager commits, or rolls back on an error
def rename_with(user_id, name):
    with conn:
        with conn.cursor() as cur:
            cur.execute("UPDATE users SET name = %s WHERE id = %s", (name, user_id))
            if cur.rowcount == 0:
                return False
    return True


# %% bad: SQLAlchemy `begin()` outside a `with` block
def archive(engine):
    connection = engine.connect()
    trans = connection.begin()  # expect: PIN501
    connection.execute(text("DELETE FROM sessions WHERE expired"))
    trans.commit()
    connection.close()


# %% good: `engine.begin()` commits at the end of the block, or rolls back
def archive_with(engine):
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM sessions WHERE expired"))


# %% good: opened for the caller, who commits (the cursor is a parameter)
def begin_batch(cur):
    cur.execute("BEGIN")
