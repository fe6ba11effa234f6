# pinlint-test: target=pgbouncer dialect=postgres
import asyncpg


# %% bad: the server connection stays assigned to this client while the transaction is open
async def transfer(pool, source, target, amount):
    conn = await pool.acquire()
    await conn.execute("BEGIN")  # expect: PIN501
    await conn.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, source)
    await conn.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, target)
    await conn.execute("COMMIT")
    await pool.release(conn)


# %% good: the transaction block commits or rolls back, and the pool gets the connection back
async def transfer_fixed(pool, source, target, amount):
    async with pool.acquire() as conn:
        async with conn.transaction():
            await conn.execute("UPDATE accounts SET balance = balance - $1 WHERE id = $2", amount, source)
            await conn.execute("UPDATE accounts SET balance = balance + $1 WHERE id = $2", amount, target)
