"""The seed's psycopg2 application through a switchover (issue 17 acceptance 6), driven over stdin/stdout.

Six workers share a ThreadedConnectionPool; each takes a connection, INSERTs and commits, puts it back and thinks
0-3 s. The Java side stops the primary and promotes the standby; this side records, at the moment it is told the
switch begins, which workers are inside a transaction, and every error each worker sees.

  -> "ready"                       once every worker has committed
  <- "switch"                      the primary is about to stop
  -> "switching"
  <- "promoted"                    the standby is the primary now
  -> {...}                         one JSON line, once every worker has committed since the promotion
"""
import json
import os
import random
import sys
import threading
import time

import psycopg2
import psycopg2.pool

from drivercase import err, message

DSN = os.environ["DSN"]
TABLE = "failover_p2"
WORKERS = 6

lock = threading.Lock()
stop = threading.Event()
in_transaction = [False] * WORKERS
in_transaction_at_switch = [False] * WORKERS
began_during_switch = [False] * WORKERS
switching = False
commits = [0] * WORKERS
commits_since_promotion = [0] * WORKERS
promoted = False
acknowledged = []
errors = []
longest = [0.0]


def say(line):
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def worker(pool, i):
    rng = random.Random(i)
    while not stop.is_set():
        conn = pool.getconn()
        with lock:
            in_transaction[i] = True
            if switching:
                began_during_switch[i] = True
        began = time.monotonic()
        try:
            with conn.cursor() as cur:
                cur.execute("INSERT INTO " + TABLE + " (worker) VALUES (%s) RETURNING id", (i,))
                row = cur.fetchone()[0]
            conn.commit()
            with lock:
                acknowledged.append(row)
                commits[i] += 1
                if promoted:
                    commits_since_promotion[i] += 1
                longest[0] = max(longest[0], time.monotonic() - began)
        except Exception as e:
            with lock:
                errors.append({"worker": i, "error": err(e), "message": message(e),
                               "in_transaction_at_switch": in_transaction_at_switch[i]})
            try:
                conn.rollback()
            except Exception:
                pass
        finally:
            with lock:
                in_transaction[i] = False
            pool.putconn(conn)
        # The application's think time between transactions.
        stop.wait(rng.uniform(0, 3))


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with lock:
            if predicate():
                return True
        stop.wait(0.05)
    return False


def main():
    global switching, promoted
    setup = psycopg2.connect(DSN)
    setup.autocommit = True
    with setup.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS " + TABLE + " (id bigserial PRIMARY KEY, worker int)")
    setup.close()
    pool = psycopg2.pool.ThreadedConnectionPool(WORKERS, WORKERS, DSN)
    threads = [threading.Thread(target=worker, args=(pool, i), daemon=True) for i in range(WORKERS)]
    for t in threads:
        t.start()
    if not wait_for(lambda: all(c > 0 for c in commits), 60):
        raise AssertionError("not every worker committed within 60 s: %s, errors %s" % (commits, errors))
    say("ready")
    for line in sys.stdin:
        command = line.strip()
        if command == "switch":
            with lock:
                switching = True
                for i in range(WORKERS):
                    in_transaction_at_switch[i] = in_transaction[i]
            say("switching")
        elif command == "promoted":
            with lock:
                switching = False
                promoted = True
            wait_for(lambda: all(c > 0 for c in commits_since_promotion), 60)
            break
    stop.set()
    for t in threads:
        t.join(30)
    pool.closeall()
    with lock:
        say(json.dumps({
            "commits": sum(commits),
            "commits_since_promotion": commits_since_promotion,
            "acknowledged": acknowledged,
            "errors": errors,
            "in_transaction_at_switch": [i for i in range(WORKERS) if in_transaction_at_switch[i]],
            "began_during_switch": [i for i in range(WORKERS) if began_during_switch[i]],
            "longest_transaction_ms": int(longest[0] * 1000),
        }))


if __name__ == "__main__":
    main()
