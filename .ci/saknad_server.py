"""Shared by the CI scripts: start a saknad binary with demo data on a free loopback port, and call its API."""
import json, os, secrets, socket, subprocess, tempfile, urllib.error, urllib.request


def start(bin_path, db_url, secret=None, log=None):
    """Starts `bin_path serve` on a free port; returns (process, base URL, data directory). The JWT secret is
    random unless given: the server refuses one that is easy to guess."""
    secret = secret or secrets.token_urlsafe(32)
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
    tmp = tempfile.mkdtemp()
    env = dict(os.environ, SAKNAD_DEMO="1", SAKNAD_DATABASE_URL=db_url, SAKNAD_DATA_DIR=tmp, SAKNAD_JWT_SECRET=secret,
               ROCKET_PORT=str(port), ROCKET_ADDRESS="127.0.0.1", ROCKET_LOG_LEVEL="critical")
    out = log if log is not None else subprocess.DEVNULL
    proc = subprocess.Popen([bin_path, "serve"], env=env, stdout=out, stderr=subprocess.STDOUT if log is not None else subprocess.DEVNULL)
    return proc, f"http://127.0.0.1:{port}", tmp


def call(base, path, token=None, body=None):
    """GET (or POST with a JSON body); answers (status, body bytes), status 0 when nothing answered."""
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
