# pinlint-test: target=rds-proxy dialect=mysql
import pymysql

# %% bad: counting rows through the session
def page_with_total(cur):
    cur.execute("SELECT SQL_CALC_FOUND_ROWS * FROM orders LIMIT 10")
    cur.execute("SELECT FOUND_ROWS()")  # expect: PIN603


# %% bad: reading what the previous statement did
def withdraw(cur, account_id):
    cur.execute("UPDATE accounts SET balance = balance - 10 WHERE id = %s", (account_id,))
    cur.execute("SELECT ROW_COUNT()")  # expect: PIN603
    cur.execute("INSERT INTO orders (total) VALUES (10)")
    cur.execute("SELECT LAST_INSERT_ID()")  # expect: PIN603


# %% good: the driver reports both with the statement's result
def archive_driver(cur):
    cur.execute("UPDATE orders SET archived = 1 WHERE total = 0")
    changed = cur.rowcount
    cur.execute("INSERT INTO orders (total) VALUES (10)")
    return changed, cur.lastrowid


# %% good: a separate count
def page_and_count(cur):
    cur.execute("SELECT * FROM orders LIMIT 10")
    cur.execute("SELECT COUNT(*) FROM orders")
