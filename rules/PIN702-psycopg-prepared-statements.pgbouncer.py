# pinlint-test: target=pgbouncer dialect=postgres
import psycopg

DSN = "postgresql://app@pgbouncer.internal:6432/shop"

# %% bad: without max_prepared_statements, PgBouncer loses the statement between transactions
conn = psycopg.connect(DSN)  # expect: PIN702

# %% good: no prepared statements at all
conn = psycopg.connect(DSN, prepare_threshold=None)
