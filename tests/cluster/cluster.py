"""A site on several "machines" on this one: the files from deploy/, started for real.

Debian's nginx balances (round robin) over two gunicorn app servers on two ports, which
share one PostgreSQL and one Redis started here too. Every process is started from the
files in deploy/, with only these substitutions (the same as in docs/deployment.md):

nginx site (deploy/nginx/newsreader.conf), used as the one site of a generated main
nginx.conf (the part Debian's /etc/nginx/nginx.conf plays):
- the upstream addresses ``10.0.0.11:8000`` and ``10.0.0.12:8000`` become the two app
  servers' ``127.0.0.1:PORT``;
- ``listen 80`` and ``listen 443`` become ``127.0.0.1:PORT`` (free ports), the ``[::]``
  lines are dropped (a CI machine may have no IPv6);
- the certificate folder ``/etc/letsencrypt/live/news.example.com/`` becomes a temporary
  folder holding a self-signed certificate for ``localhost`` made with openssl.

systemd units and the cron line (deploy/systemd/, deploy/cron/newsreader): the command
is read from ExecStart= (or the cron line) with systemd's ``%i`` and ``${NAME}`` expanded,
``/srv/newsreader`` replaced by this checkout, ``/srv/newsreader/incoming`` and
``/etc/newsreader/env`` by temporary ones. The environment is deploy/env.example with the
site-specific values replaced (addresses, secret key, host names); everything else
(DJANGO_DEBUG=false, DJANGO_SECURE_SSL=true, TRUSTED_PROXY_COUNT=1, the timeouts) is used
as written there. DJANGO_STATIC_ROOT points collectstatic at the temporary folder, so the
shared checkout's staticfiles/ is left alone.
"""

import contextlib
import http.client
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.parse
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
DEPLOY = PROJECT / "deploy"
SRV = "/srv/newsreader"
PG_BIN_GLOB = "/usr/lib/postgresql/*/bin"
NGINX_CANDIDATES = ("/usr/sbin/nginx", "nginx")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_nginx():
    for candidate in NGINX_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


def find_pg_bin():
    def version(path):
        return [int(x) for x in re.findall(r"\d+", path.parts[-2])]

    bins = sorted(Path("/").glob(PG_BIN_GLOB.lstrip("/")), key=version)
    for directory in reversed(bins):
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    return None


def missing_tools():
    """What this machine lacks to run the cluster ([] when it has everything)."""
    missing = []
    if not find_nginx():
        missing.append("nginx")
    if not find_pg_bin():
        missing.append("PostgreSQL (initdb, pg_ctl)")
    if not shutil.which("redis-server"):
        missing.append("redis-server")
    if not shutil.which("openssl"):
        missing.append("openssl")
    if os.geteuid() == 0 and not _user_exists("postgres"):
        missing.append("the postgres user (to run PostgreSQL as root)")
    return missing


def _user_exists(name):
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


# --- reading deploy/ ------------------------------------------------------------


def read_env_file(path):
    """NAME=value lines as systemd's EnvironmentFile= reads them (comments and blanks skipped)."""
    values = {}
    for line in Path(path).read_text().splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        name, _, value = line.partition("=")
        values[name.strip()] = value.strip()
    return values


def write_env_file(path, values):
    Path(path).write_text("".join(f"{name}={value}\n" for name, value in values.items()))
    os.chmod(path, 0o600)


@dataclass
class Unit:
    path: Path
    environment: dict = field(default_factory=dict)
    working_directory: str = ""
    exec_start: str = ""


def read_unit(path):
    unit = Unit(Path(path))
    for line in unit.path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if not sep or line.startswith(("#", ";")):
            continue
        if name == "Environment":
            for item in shlex.split(value):
                key, _, val = item.partition("=")
                unit.environment[key] = val
        elif name == "WorkingDirectory":
            unit.working_directory = value
        elif name == "ExecStart":
            unit.exec_start = value
    assert unit.exec_start, f"{path} has no ExecStart="
    return unit


def expand_systemd(command, environment, instance=None):
    """systemd's %i and ${NAME} expansion of a command line (the subset the units use)."""
    if instance is not None:
        command = command.replace("%i", str(instance))
    assert "%" not in command, f"unexpanded specifier in {command!r}"

    def variable(match):
        name = match.group(1)
        assert name in environment, f"${{{name}}} in ExecStart is set neither by the unit nor by the env file"
        return environment[name]

    return re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", variable, command)


def localise(text, replacements):
    for old, new in replacements:
        text = text.replace(old, new)
    return text


def nginx_site(app_ports, http_port, https_port, tls_dir):
    """deploy/nginx/newsreader.conf with the substitutions described at the top of this file."""
    site = (DEPLOY / "nginx" / "newsreader.conf").read_text()
    upstreams = re.findall(r"^\s*server (10\.0\.0\.\d+:8000)\b", site, flags=re.M)
    assert len(upstreams) == len(app_ports), f"the site names {upstreams}, the test runs {len(app_ports)} app servers"
    pairs = zip(upstreams, app_ports, strict=True)
    substitutions = [(f"server {address}", f"server 127.0.0.1:{port}") for address, port in pairs]
    substitutions += [
        ("    listen [::]:80;\n", ""),
        ("    listen [::]:443 ssl http2;\n", ""),
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("/etc/letsencrypt/live/news.example.com/", f"{tls_dir}/"),
    ]
    expected = {"/etc/letsencrypt/live/news.example.com/": 2}
    for old, new in substitutions:
        count = site.count(old)
        assert count == expected.get(old, 1), f"deploy/nginx/newsreader.conf: expected {old!r} once, found {count}"
        site = site.replace(old, new)
    assert "10.0.0." not in site and "letsencrypt/live" not in site
    return site


NGINX_MAIN = """\
daemon off;
worker_processes 2;
pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log info;
events {{ worker_connections 512; }}
http {{
    log_format upstream '$remote_addr "$request" $status upstream=$upstream_addr xff="$http_x_forwarded_for"';
    access_log {tmp}/nginx-access.log upstream;
    client_body_temp_path {tmp}/nginx-body;
    proxy_temp_path {tmp}/nginx-proxy;
    fastcgi_temp_path {tmp}/nginx-fastcgi;
    uwsgi_temp_path {tmp}/nginx-uwsgi;
    scgi_temp_path {tmp}/nginx-scgi;
    include {tmp}/newsreader.conf;
}}
"""


# --- HTTP -----------------------------------------------------------------------


@dataclass
class Response:
    status: int
    headers: http.client.HTTPMessage
    text: str

    def header(self, name):
        return self.headers.get(name, "")


class Client:
    """A browser-like client: its cookies, its source address (127.0.0.x) and its Origin.

    ``tls`` is an SSL context (through the balancer over HTTPS), or None for plain HTTP
    (an app server directly, or the balancer's port 80). ``headers`` go with every request.
    """

    def __init__(self, port, *, tls=None, source="127.0.0.1", host="localhost", origin=None, headers=None):
        self.port, self.tls, self.source, self.host = port, tls, source, host
        self.origin = origin
        self.extra = dict(headers or {})
        self.cookies = {}

    def request(self, method, path, form=None, headers=None, timeout=20):
        if self.tls is not None:
            connection = http.client.HTTPSConnection(
                "127.0.0.1", self.port, context=self.tls, timeout=timeout, source_address=(self.source, 0)
            )
        else:
            connection = http.client.HTTPConnection(
                "127.0.0.1", self.port, timeout=timeout, source_address=(self.source, 0)
            )
        sent = {"Host": f"{self.host}:{self.port}", "User-Agent": "newsreader-cluster-test", **self.extra}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            if self.origin:
                sent["Origin"] = self.origin
                sent["Referer"] = self.origin + path
        sent.update(headers or {})
        try:
            connection.request(method, path, body=body, headers=sent)
            raw = connection.getresponse()
            text = raw.read().decode("utf-8", "replace")
        finally:
            connection.close()
        for value in raw.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie()
            jar.load(value)
            for name, morsel in jar.items():
                if morsel["max-age"] == "0" or not morsel.value:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Response(raw.status, raw.headers, text)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, form, **kw):
        return self.request("POST", path, form=form, **kw)

    def csrf_token(self, path):
        page = self.get(path)
        assert page.status == 200, f"GET {path}: {page.status}"
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)
        assert match, f"no CSRF token in {path}"
        return match.group(1)

    def login(self, username, password):
        """The admin's login form, as a browser submits it; the response to the POST."""
        path = "/admin/login/?next=/admin/"
        token = self.csrf_token(path)
        return self.post(
            path, {"csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/"}
        )

    def logged_in(self):
        page = self.get("/admin/")
        return page.status == 200 and "Log out" in page.text

    def admin_action(self, action, story_id):
        token = self.csrf_token("/admin/stories/story/")
        return self.post(
            "/admin/stories/story/",
            {"csrfmiddlewaretoken": token, "action": action, "_selected_action": str(story_id), "index": "0"},
        )


def wait_until(check, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            last = check()
            if last:
                return last
        except OSError as error:
            last = error
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what} (last: {last!r})")


def port_open(port):
    with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
        return True
    return False


# --- the processes ----------------------------------------------------------------


class Cluster:
    """Starts and stops everything; ``stop()`` is safe to call at any point."""

    APP_SERVERS = 2

    def __init__(self):
        self.tmp = Path(tempfile.mkdtemp(prefix="newsreader-cluster-"))
        os.chmod(self.tmp, 0o755)  # PostgreSQL runs as the postgres user when we are root
        self.processes = {}  # name -> Popen, each in its own session (process group)
        self.logs = {}
        self.pg_bin = find_pg_bin()
        self.pg_port, self.redis_port = free_port(), free_port()
        self.app_ports = [free_port() for _ in range(self.APP_SERVERS)]
        self.http_port, self.https_port = free_port(), free_port()
        self.pg_started = False
        self.editor = ("editor", "Cl-" + secrets.token_urlsafe(18))

    # PostgreSQL: one server, in a folder the postgres user owns when we are root.
    def _as_postgres(self, args):
        return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args

    def start_postgres(self):
        home = self.tmp / "pg"
        home.mkdir()
        if os.geteuid() == 0:
            shutil.chown(home, "postgres")
        home.chmod(0o700)
        data = home / "data"
        run = dict(cwd=home, check=True, capture_output=True, text=True, timeout=120)
        if not (data / "PG_VERSION").exists():
            subprocess.run(
                self._as_postgres(
                    [str(self.pg_bin / "initdb"), "-D", str(data), "-U", "newsreader", "--auth=trust", "-E", "UTF8"]
                ),
                **run,
            )
        self.pg_ctl("start")
        createdb = [str(self.pg_bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.pg_port), "-U", "newsreader"]
        subprocess.run(self._as_postgres([*createdb, "newsreader"]), **run)

    def pg_ctl(self, action):
        home = self.tmp / "pg"
        args = [str(self.pg_bin / "pg_ctl"), "-D", str(home / "data"), "-w", "-t", "60"]
        if action == "start":
            options = (
                f"-c listen_addresses=127.0.0.1 -p {self.pg_port} -k {home} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            args += ["-l", str(home / "pg.log"), "-o", options, "start"]
        else:
            args += ["-m", "fast", "stop"]
        result = subprocess.run(self._as_postgres(args), cwd=home, capture_output=True, text=True, timeout=90)
        log = (home / "pg.log").read_text() if (home / "pg.log").exists() else ""
        assert result.returncode == 0, f"pg_ctl {action}: {result.stdout}{result.stderr}\n{log[-3000:]}"
        self.pg_started = action == "start"

    @property
    def database_url(self):
        return f"postgres://newsreader@127.0.0.1:{self.pg_port}/newsreader"

    def spawn(self, name, args, *, env=None, cwd=PROJECT):
        log = open(self.tmp / f"{name}.log", "wb")  # noqa: SIM115 - closed in stop()
        self.logs[name] = log
        self.processes[name] = subprocess.Popen(
            args,
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        return self.processes[name]

    def start_redis(self):
        self.spawn(
            "redis",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            cwd=self.tmp,
        )
        wait_until(lambda: port_open(self.redis_port), 20, "Redis to listen")

    # The settings every process gets: deploy/env.example with the site's own values.
    def make_env(self):
        example = read_env_file(DEPLOY / "env.example")
        site = {
            "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
            "DJANGO_ALLOWED_HOSTS": "localhost",
            # nginx passes Host without the port ($host): the browser's Origin has it.
            "DJANGO_CSRF_TRUSTED_ORIGINS": f"https://localhost:{self.https_port}",
            "SITE_URL": f"https://localhost:{self.https_port}",
            "DATABASE_URL": self.database_url,
            "REDIS_URL": f"redis://127.0.0.1:{self.redis_port}/0",
            "NEWSREADER_BIND": "127.0.0.1",
            "GUNICORN_WORKERS": "2",
        }
        unknown = set(site) - set(example)
        assert not unknown, f"deploy/env.example does not list {sorted(unknown)}"
        self.site_env = {**example, **site}
        self.env_file = self.tmp / "env"
        write_env_file(self.env_file, self.site_env)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.tmp),
            "LANG": "C.UTF-8",
            "PYTHONDONTWRITEBYTECODE": "1",
            **self.site_env,
            "DJANGO_STATIC_ROOT": str(self.tmp / "staticfiles"),
        }

    def unit_command(self, unit_name, instance=None, replacements=()):
        unit = read_unit(DEPLOY / "systemd" / unit_name)
        environment = {**unit.environment, **self.env}  # EnvironmentFile= overrides Environment=
        command = expand_systemd(unit.exec_start, environment, instance)
        command = localise(command, [*replacements, (SRV, str(PROJECT))])
        cwd = localise(unit.working_directory or str(PROJECT), [(SRV, str(PROJECT))])
        return shlex.split(command), environment, cwd

    def run_unit(self, unit_name, replacements=(), timeout=300):
        args, environment, cwd = self.unit_command(unit_name, replacements=replacements)
        result = subprocess.run(args, cwd=cwd, env=environment, capture_output=True, text=True, timeout=timeout)
        assert result.returncode == 0, f"{unit_name}: {shlex.join(args)}\n{result.stdout}\n{result.stderr}"
        return result

    def start_app_servers(self):
        for number, port in enumerate(self.app_ports, 1):
            args, environment, cwd = self.unit_command("newsreader@.service", instance=port)
            self.spawn(f"app{number}", args, env=environment, cwd=cwd)
        for number, port in enumerate(self.app_ports, 1):
            wait_until(lambda p=port: self.direct(p).get("/healthz").status == 200, 60, f"app server {number} /healthz")

    def direct(self, port, **kw):
        """A client talking to one app server as the balancer would (X-Forwarded-Proto: https)."""
        return Client(port, headers={"X-Forwarded-Proto": "https"}, **kw)

    def start_nginx(self):
        tls = self.tmp / "tls"
        tls.mkdir()
        subprocess.run(
            [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                "-nodes", "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout", str(tls / "privkey.pem"), "-out", str(tls / "fullchain.pem"),
            ],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        (self.tmp / "newsreader.conf").write_text(nginx_site(self.app_ports, self.http_port, self.https_port, tls))
        (self.tmp / "nginx.conf").write_text(NGINX_MAIN.format(tmp=self.tmp))
        nginx = find_nginx()
        base = [nginx, "-p", str(self.tmp), "-e", str(self.tmp / "nginx-error.log"), "-c", str(self.tmp / "nginx.conf")]
        check = subprocess.run([*base, "-t"], capture_output=True, text=True, timeout=30)
        assert check.returncode == 0, f"nginx -t:\n{check.stderr}"
        self.spawn("nginx", base)
        wait_until(lambda: port_open(self.https_port) and port_open(self.http_port), 20, "nginx to listen")
        self.tls = ssl.create_default_context(cafile=str(tls / "fullchain.pem"))

    def balancer(self, **kw):
        return Client(self.https_port, tls=self.tls, origin=f"https://localhost:{self.https_port}", **kw)

    def kill(self, name):
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self):
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)
            # A group's stragglers (gunicorn workers whose master died) go too.
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        for log in self.logs.values():
            log.close()
        if self.pg_started:
            with contextlib.suppress(Exception):
                self.pg_ctl("stop")

    def log_tails(self, size=3000):
        parts = []
        for path in [*sorted(self.tmp.glob("*.log")), self.tmp / "pg" / "pg.log"]:
            if path.exists():
                parts.append(f"--- {path.name}\n{path.read_text(errors='replace')[-size:]}")
        return "\n".join(parts)

    def remove(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
