"""The release binary on PostgreSQL with `sslmode=require`: it migrates, seeds the demo, answers /health and a
logged-in read, and every connection it holds to the database is encrypted (pg_stat_ssl).

Usage: tls_smoke.py BIN PG_URL PSQL_COMMAND..."""
import json, os, socket, subprocess, sys, tempfile, time, urllib.error, urllib.request

bin_path, pg_url, psql = sys.argv[1], sys.argv[2], sys.argv[3:]
s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
tmp = tempfile.mkdtemp()
env = dict(os.environ, SAKNAD_DEMO="1", SAKNAD_DATABASE_URL=pg_url, SAKNAD_DATA_DIR=tmp,
           SAKNAD_JWT_SECRET="tls-smoke-secret-tls-smoke-secret-tls", ROCKET_PORT=str(port),
           ROCKET_ADDRESS="127.0.0.1", ROCKET_LOG_LEVEL="critical")
log = open(os.path.join(tmp, "server.log"), "w")
server = subprocess.Popen([bin_path, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
base = f"http://127.0.0.1:{port}"

def call(path, token=None, body=None):
    req = urllib.request.Request(base + path, method="POST" if body is not None else "GET",
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except Exception:
        return 0, b""

try:
    health = (0, b"")
    for _ in range(600):
        health = call("/health")
        if health[0] == 200 or server.poll() is not None:
            break
        time.sleep(0.1)
    if health[0] != 200:
        print("tls smoke: the release binary did not become healthy over sslmode=require", health)
        print(open(os.path.join(tmp, "server.log")).read()[-2000:])
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
