"""The release binary on PostgreSQL with `sslmode=require`: it migrates, seeds the demo, answers /health and a
logged-in read, and every connection it holds to the database is encrypted (pg_stat_ssl).

Usage: tls_smoke.py BIN PG_URL PSQL_COMMAND..."""
import json, os, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import saknad_server

bin_path, pg_url, psql = sys.argv[1], sys.argv[2], sys.argv[3:]
log_path = os.path.join(tempfile.mkdtemp(), "server.log")
log = open(log_path, "w")
server, base, tmp = saknad_server.start(bin_path, pg_url, None, log)

def call(path, token=None, body=None):
    return saknad_server.call(base, path, token, body)

try:
    health = (0, b"")
    for _ in range(600):
        health = call("/health")
        if health[0] == 200 or server.poll() is not None:
            break
        time.sleep(0.1)
    if health[0] != 200:
        print("tls smoke: the release binary did not become healthy over sslmode=require", health)
        print(open(log_path).read()[-2000:])
        sys.exit(1)
    status, body = call("/api/v1/auth/login", body={"email": "socialsekreterare@demo.saknad.se", "password": "saknad-demo-2026"})
    token = json.loads(body)["token"]
    status, _ = call("/api/v1/cases", token)
    db = pg_url.rsplit("/", 1)[1].split("?")[0]
    out = subprocess.run(psql + ["-Atc", f"SELECT count(*) FILTER (WHERE s.ssl), count(*) FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.datname = '{db}'"],
                         check=True, capture_output=True, text=True).stdout.strip()
    encrypted, total = (int(x) for x in out.split("|"))
    print(f"tls smoke: /health {health[0]}, cases {status}, {encrypted}/{total} database connections encrypted")
    if status != 200 or total == 0 or encrypted != total:
        sys.exit(1)
finally:
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()
