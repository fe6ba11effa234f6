# pinlint-test: target=rds-proxy dialect=postgres
import psycopg

# %% bad: SET LOCAL inside a transaction still pins RDS Proxy for PostgreSQL
def tenant_tx(conn: psycopg.Connection):
    with conn.transaction():
        conn.execute("SET LOCAL app.tenant = '42'")  # expect: PIN103; db: in-transaction
        conn.execute("SELECT * FROM orders")


# %% bad: transaction-local set_config
def tenant_tx_config(cur, tenant_id):
    cur.execute("SELECT set_config('app.tenant', %s, true)", (tenant_id,))  # expect: PIN103; db: in-transaction


# %% bad: SET TRANSACTION is a SET statement too
def serializable(cur):
    cur.execute("BEGIN")
    cur.execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")  # expect: PIN103


# %% good: the isolation level in BEGIN itself
def serializable_begin(cur):
    cur.execute("BEGIN ISOLATION LEVEL SERIALIZABLE READ ONLY")
    cur.execute("SELECT count(*) FROM orders")
    cur.execute("COMMIT")


# %% good: a function that sets the value where the proxy does not look
def tenant_via_function(cur, tenant_id):
    cur.execute("SELECT app.set_tenant(%s)", (tenant_id,))  # db: state-ok -- the function body sets it, where RDS Proxy does not look
