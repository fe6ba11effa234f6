# pinlint-test: target=rds-proxy dialect=mysql
import pymysql

# %% bad: a user variable set with SET, then read
def tenant_orders(cur, tenant_id):
    cur.execute("SET @tenant = %s", (tenant_id,))  # expect: PIN306
    cur.execute("SELECT * FROM orders WHERE tenant_id = @tenant")  # expect: PIN306


# %% bad: assigned inside a query
def numbered(cur):
    cur.execute("SELECT @n := @n + 1 AS n, id FROM orders, (SELECT @n := 0) AS init")  # expect: PIN306


# %% bad: SELECT ... INTO a variable
def biggest(cur):
    cur.execute("SELECT MAX(total) INTO @biggest FROM orders")  # expect: PIN306


# %% good: a query parameter instead of a session variable
def tenant_orders_param(cur, tenant_id):
    cur.execute("SELECT * FROM orders WHERE tenant_id = %s", (tenant_id,))


# %% good: a window function instead of a running variable
def numbered_window(cur):
    cur.execute("SELECT ROW_NUMBER() OVER (ORDER BY id) AS n, id FROM orders")


# %% good: system variables and e-mail addresses are not user variables
def not_user_variables(cur):
    cur.execute("SELECT @@session.sql_mode")
    cur.execute("SELECT id FROM users WHERE email = 'ops@example.com'")
