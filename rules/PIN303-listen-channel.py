# pinlint-test: target=rds-proxy dialect=postgres
import psycopg2

# %% bad: listening for notifications
def subscribe(cur):
    cur.execute("LISTEN jobs")  # expect: PIN303


# %% bad: the clean-up travels with the trigger
def unsubscribe(cur):
    cur.execute("UNLISTEN *")  # expect: PIN303; db: setup=LISTEN jobs


# %% good: sending notifications is fine
def publish(cur):
    cur.execute("NOTIFY jobs, 'ready'")
    cur.execute("SELECT pg_notify('jobs', %s)", ("ready",))
