"""PostgreSQL restarted under load: while clients read and report, the database restarts; requests may be
refused with 503 while it is away, never answered with another 5xx, and succeed again within seconds.

Usage: pg_restart.py BIN PG_URL RESTART_COMMAND..."""
import json, os, socket, subprocess, sys, tempfile, threading, time, urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import saknad_server

bin_path, pg_url, restart = sys.argv[1], sys.argv[2], sys.argv[3:]
server, base, tmp = saknad_server.start(bin_path, pg_url, None)

def call(path, token=None, body=None):
    return saknad_server.call(base, path, token, body)

try:
    for _ in range(200):
        if call("/health")[0] == 200:
            break
        time.sleep(0.1)
    token = json.loads(call("/api/v1/auth/login", body={"email": "socialsekreterare@demo.saknad.se", "password": "saknad-demo-2026"})[1])["token"]
    codes, stop = [], threading.Event()
    def load():
        while not stop.is_set():
            codes.append((time.monotonic(), call("/api/v1/cases", token)[0]))
            time.sleep(0.01)
    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads: t.start()
    time.sleep(1.0)
    restarted_at = time.monotonic()
    subprocess.run(restart, check=True, stdout=subprocess.DEVNULL)
    back_at = time.monotonic()
    recovered = None
    while time.monotonic() - back_at < 15:
        if call("/api/v1/cases", token)[0] == 200:
            recovered = time.monotonic() - back_at
            break
        time.sleep(0.1)
    time.sleep(1.0)
    stop.set()
    for t in threads: t.join()
    bad = sorted({c for _, c in codes if c >= 500 and c != 503})
    after = [c for t, c in codes if t > back_at + (recovered or 0) + 0.5]
    print(f"pg restart: {len(codes)} requests, {sum(1 for _, c in codes if c == 503)} answered 503 while the database was away, "
          f"other 5xx: {bad or 'none'}, recovered {recovered if recovered is None else round(recovered, 2)} s after the restart, "
          f"{sum(1 for c in after if c == 200)}/{len(after)} OK afterwards")
    if bad or recovered is None or not after or any(c != 200 for c in after):
        sys.exit(1)
finally:
    server.kill()
