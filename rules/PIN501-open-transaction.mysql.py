# pinlint-test: target=rds-proxy dialect=mysql
import pymysql

DB = pymysql.connect(host="proxy.example", autocommit=True)


# %% bad: START TRANSACTION, then a return before the commit
def reserve(item_id):
    with DB.cursor() as cur:
        cur.execute("START TRANSACTION")  # expect: PIN501
        cur.execute("SELECT stock FROM items WHERE id = %s FOR UPDATE", (item_id,))
        (stock,) = cur.fetchone()
        if stock == 0:
            return False
        cur.execute("UPDATE items SET stock = stock - 1 WHERE id = %s", (item_id,))
        cur.execute("COMMIT")
        return True


# %% bad: autocommit turned off, and never a commit
def touch(item_id):
    DB.autocommit(False)
    with DB.cursor() as cur:
        cur.execute("UPDATE items SET seen = NOW() WHERE id = %s", (item_id,))  # expect: PIN501


# %% good: roll back before returning, and on any error
def reserve_fixed(item_id):
    with DB.cursor() as cur:
        cur.execute("START TRANSACTION")
        try:
            cur.execute("SELECT stock FROM items WHERE id = %s FOR UPDATE", (item_id,))
            (stock,) = cur.fetchone()
            if stock == 0:
                DB.rollback()
                return False
            cur.execute("UPDATE items SET stock = stock - 1 WHERE id = %s", (item_id,))
            DB.commit()
            return True
        except Exception:
            DB.rollback()
            raise
