# pinlint-test: target=rds-proxy dialect=mysql
import pymysql

# %% bad: mysqldump-style header lines replayed through the proxy
def restore_header(cur):
    cur.execute("/*!40101 SET NAMES utf8mb4 */")  # expect: PIN602
    cur.execute("/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */")  # expect: PIN602


# %% bad: a version-guarded keyword, and a MariaDB-only header line
def guarded(cur):
    cur.execute("CREATE /*!32302 TEMPORARY */ TABLE staging (id INT)")  # expect: PIN602
    cur.execute("/*M!100616 SET @OLD_NOTE_VERBOSITY=@@NOTE_VERBOSITY, NOTE_VERBOSITY=0 */")  # expect: PIN602


# %% good: the same statements written plainly
def plain(cur):
    cur.execute("SET NAMES utf8mb4")
    cur.execute("SELECT SQL_NO_CACHE id FROM orders")


# %% good: comments, optimizer hints, and the text inside strings are not executable
def comments(cur):
    cur.execute("SELECT /* a note */ id FROM orders -- trailing note")
    cur.execute("SELECT /*+ MAX_EXECUTION_TIME(1000) */ id FROM orders")
    cur.execute("SELECT '/*!40101 not a comment */' AS s")
