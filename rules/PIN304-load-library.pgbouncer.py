# pinlint-test: target=pgbouncer dialect=postgres
import psycopg2

# %% bad: the library stays loaded in the server connection
def explain_slow_queries(cur):
    cur.execute("LOAD 'auto_explain'")  # expect: PIN304


# %% good: reading the server-side preload settings
def preloaded(cur):
    cur.execute("SHOW session_preload_libraries")
