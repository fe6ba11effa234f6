# pinlint-test: target=pgbouncer dialect=postgres
import psycopg2

# %% bad: a session-level set_config of a parameter PgBouncer does not track
def set_tenant(cur, tenant_id):
    cur.execute("SELECT set_config('app.tenant', %s, false)", (tenant_id,))  # expect: PIN102


# %% bad: the same, for a server setting
def long_timeout(cur):
    cur.execute("SELECT set_config('statement_timeout', '5min', false)")  # expect: PIN102


# %% good: Django's time zone setup; PgBouncer tracks TimeZone
def django_time_zone(cur):
    cur.execute("SELECT set_config('TimeZone', 'UTC', false)")


# %% good: transaction-local inside a transaction
def tenant_tx(cur, tenant_id):
    cur.execute("BEGIN")
    cur.execute("SELECT set_config('app.tenant', %s, true)", (tenant_id,))
    cur.execute("SELECT * FROM orders")
    cur.execute("COMMIT")
