"""An order service behind RDS Proxy, with the mistakes that pin its connections."""

import json
import os

import psycopg2

conn = psycopg2.connect(os.environ["DATABASE_URL"])


def lambda_handler(event, context):
    tenant = event["tenant"]
    with conn.cursor() as cur:
        # Pins: a session setting the proxy does not track.
        cur.execute(f"SET search_path TO tenant_{tenant}, public")
        # Pins: a session-level advisory lock (use pg_advisory_xact_lock).
        cur.execute("SELECT pg_advisory_lock(hashtext(%s))", (tenant,))
        # Pins: the sequence function (use INSERT ... RETURNING).
        cur.execute("SELECT nextval('order_seq')")
        order_id = cur.fetchone()[0]
        cur.execute(
            "INSERT INTO orders (id, tenant, body) VALUES (%s, %s, %s)",
            (order_id, tenant, json.dumps(event["order"])),
        )
        cur.execute("SELECT pg_advisory_unlock(hashtext(%s))", (tenant,))
    conn.commit()
    return {"statusCode": 200, "body": json.dumps({"id": order_id})}


def report(event, context):
    with conn.cursor() as cur:
        cur.execute("CREATE TEMP TABLE recent AS SELECT * FROM orders WHERE created > now() - interval '1 day'")
        cur.execute("SELECT tenant, count(*) FROM recent GROUP BY tenant")
        rows = cur.fetchall()
    # Fine: UPDATE ... SET is not a session SET, and this is transaction-scoped.
    with conn.cursor() as cur:
        cur.execute("UPDATE stats SET last_report = now()")
        cur.execute("SELECT pg_advisory_xact_lock(7)")
    conn.commit()
    return rows
