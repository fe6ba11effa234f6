# pinlint-test: target=rds-proxy dialect=postgres
import psycopg2

# %% bad: loading a library into the session
def explain_slow_queries(cur):
    cur.execute("LOAD 'auto_explain'")  # expect: PIN304


# %% good: COPY is not LOAD
def bulk(cur, f):
    cur.copy_expert("COPY events FROM STDIN WITH (FORMAT csv)", f)
    cur.execute("COPY events TO STDOUT")  # db: error-ok -- COPY needs the copy protocol, not a plain query
