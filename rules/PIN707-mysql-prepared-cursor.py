# pinlint-test: target=rds-proxy dialect=mysql
import mysql.connector
from mysql.connector.cursor import MySQLCursorPrepared

cnx = mysql.connector.connect(host="proxy.internal", user="app", database="shop")


# %% bad: binary-protocol prepared statements pin RDS Proxy for MySQL
def find_order(order_id):
    cur = cnx.cursor(prepared=True)  # expect: PIN707
    cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,))
    return cur.fetchone()


def find_customer(customer_id):
    cur = cnx.cursor(cursor_class=MySQLCursorPrepared)  # expect: PIN707
    cur.execute("SELECT * FROM customers WHERE id = %s", (customer_id,))
    return cur.fetchone()


# %% good: the default cursor interpolates parameters on the client
def find_order_plain(order_id):
    cur = cnx.cursor(dictionary=True)
    cur.execute("SELECT * FROM orders WHERE id = %s", (order_id,))
    return cur.fetchone()
