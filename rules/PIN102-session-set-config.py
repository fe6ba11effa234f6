# pinlint-test: target=rds-proxy dialect=postgres
import psycopg

# %% bad: set_config with is_local = false
def set_tenant(cur, tenant_id):
    cur.execute("SELECT set_config('app.tenant', %s, false)", (tenant_id,))  # expect: PIN102


# %% bad: schema-qualified, inside a CTE
def set_tenant_cte(conn: psycopg.Connection, tenant_id):
    conn.execute(  # expect: PIN102
        """
        WITH s AS (SELECT pg_catalog.set_config('app.tenant', %s, 'off'))
        SELECT * FROM s
        """,
        (tenant_id,),
    )


# %% bad: is_local is a parameter, so it may be false
def set_any(cur, name, value, local):
    cur.execute("SELECT set_config(%s, %s, %s)", (name, value, local))  # expect: PIN102; db: values='app.flag'|'on'|false


# %% good: reading the setting back
def read_tenant(cur):
    cur.execute("SELECT current_setting('app.tenant', true)")
