# pinlint-test: target=pgbouncer dialect=postgres
import psycopg2

# %% bad: the server connection listens, not this client
def subscribe(cur):
    cur.execute("LISTEN jobs")  # expect: PIN303


# %% bad: UNLISTEN may run on another server connection than the LISTEN
def subscribe_then_stop(cur):
    cur.execute("LISTEN jobs")  # expect: PIN303
    cur.execute("UNLISTEN jobs")  # expect: PIN303


# %% good: sending notifications works through PgBouncer
def publish(cur):
    cur.execute("NOTIFY jobs, 'ready'")
    cur.execute("SELECT pg_notify('jobs', %s)", ("ready",))
