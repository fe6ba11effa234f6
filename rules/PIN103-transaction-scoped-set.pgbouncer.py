# pinlint-test: target=pgbouncer dialect=postgres
import psycopg2

# %% good: SET LOCAL ends with the transaction, before PgBouncer hands the connection on
def tenant_tx(cur):
    cur.execute("BEGIN")
    cur.execute("SET LOCAL app.tenant = '42'")
    cur.execute("SELECT * FROM orders")
    cur.execute("COMMIT")


# %% good: transaction-local set_config
def tenant_tx_config(cur, tenant_id):
    cur.execute("BEGIN")
    cur.execute("SELECT set_config('app.tenant', %s, true)", (tenant_id,))
    cur.execute("COMMIT")


# %% good: SET TRANSACTION applies to this transaction only
def serializable(cur):
    cur.execute("BEGIN")
    cur.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
    cur.execute("COMMIT")
