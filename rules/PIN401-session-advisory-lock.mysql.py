# pinlint-test: target=rds-proxy dialect=mysql
import pymysql

# %% bad: a named lock and its release
def run_exclusive(cur):
    cur.execute("SELECT GET_LOCK('nightly-job', 10)")  # expect: PIN401
    cur.execute("SELECT RELEASE_LOCK('nightly-job')")  # expect: PIN401


# %% bad: releasing every named lock of the session
def release_all(cur):
    cur.execute("SELECT GET_LOCK('import-a', 0), GET_LOCK('import-b', 0)")  # expect: PIN401
    cur.execute("SELECT RELEASE_ALL_LOCKS()")  # expect: PIN401


# %% good: checking a lock changes nothing
def who_runs(cur):
    cur.execute("SELECT IS_USED_LOCK('nightly-job'), IS_FREE_LOCK('nightly-job')")


# %% good: a row lock inside a transaction
def lock_row(cur):
    cur.execute("START TRANSACTION")
    cur.execute("SELECT * FROM job_locks WHERE name = 'nightly-job' FOR UPDATE")
    cur.execute("COMMIT")
