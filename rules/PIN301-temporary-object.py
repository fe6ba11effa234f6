# pinlint-test: target=rds-proxy dialect=postgres
import psycopg2

# %% bad: a temporary table
def stage(cur):
    cur.execute("CREATE TEMP TABLE staging (id int, payload jsonb)")  # expect: PIN301


# %% bad: ON COMMIT DROP does not help behind RDS Proxy
def stage_tx(cur):
    cur.execute("CREATE TEMPORARY TABLE staging (id int) ON COMMIT DROP")  # expect: PIN301; db: in-transaction


# %% bad: SELECT INTO TEMP and temporary views and sequences
def snapshot(cur):
    cur.execute("SELECT id, total INTO TEMP recent FROM orders WHERE created > now() - interval '1 day'")  # expect: PIN301
    cur.execute("CREATE TEMP VIEW v_recent AS SELECT * FROM orders")  # expect: PIN301
    cur.execute("CREATE TEMPORARY SEQUENCE batch_seq")  # expect: PIN301


# %% good: a CTE keeps intermediate results inside one statement
def recent_totals(cur):
    cur.execute(
        """
        WITH recent AS (SELECT id, total FROM orders WHERE created > now() - interval '1 day')
        SELECT sum(total) FROM recent
        """
    )


# %% good: dropping a temp table is clean-up, and a regular table is not temporary
def cleanup(cur):
    cur.execute("DROP TABLE IF EXISTS staging")
    cur.execute("CREATE TABLE staging_jobs (job_id uuid, id int)")
