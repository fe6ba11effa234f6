# pinlint-test: target=rds-proxy dialect=mysql
import pymysql

# %% bad: a temporary table
def stage(cur):
    cur.execute("CREATE TEMPORARY TABLE staging (id INT, payload JSON)")  # expect: PIN301


# %% bad: a temporary copy of a query result
def snapshot(cur):
    cur.execute("CREATE TEMPORARY TABLE IF NOT EXISTS recent AS SELECT id, total FROM orders")  # expect: PIN301


# %% good: a derived table keeps intermediate results inside one statement
def recent_totals(cur):
    cur.execute("SELECT SUM(total) FROM (SELECT id, total FROM orders) AS recent")


# %% good: dropping a temporary table is clean-up
def cleanup(cur):
    cur.execute("DROP TEMPORARY TABLE IF EXISTS staging")
