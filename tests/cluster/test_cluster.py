"""Several machines, for real: nginx over two gunicorn app servers, one PostgreSQL, one Redis.

Run by ``bash .ci/cluster.sh`` (NEWSREADER_CLUSTER_TEST=1); `make test` skips it with one
line. Without nginx, PostgreSQL or Redis on the machine it is skipped too, except under
CI=true, where that is a failure. What is started, and from which deploy/ files, is in
tests/cluster/cluster.py.
"""

import os
import re
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.cluster.cluster import DEPLOY, PROJECT, SRV, Cluster, localise, missing_tools, wait_until

REQUESTED = os.environ.get("NEWSREADER_CLUSTER_TEST") == "1"
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

pytestmark = pytest.mark.skipif(
    not REQUESTED, reason="several-machine test: run `bash .ci/cluster.sh` (or set NEWSREADER_CLUSTER_TEST=1)"
)

DOCUMENT = """\
---
title: {title}
webUrl: {url}
publishedDateTime: 2021-0{month}-01T00:00:00Z
published: {published}
provider:
  name: Cluster Example
  domain: cluster.example.com
---
"""


def write_document(folder, name, title, url, *, published, month=1):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.md"
    path.write_text(
        DOCUMENT.format(title=title, url=url, published=str(published).lower(), month=month), encoding="utf-8"
    )
    return path


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="module")
def cluster(request):
    missing = missing_tools()
    if missing:
        message = f"several-machine test needs {', '.join(missing)}"
        if IN_CI:
            pytest.fail(message + " (CI=true: not skipping)", pytrace=False)
        pytest.skip(message)
    started = time.monotonic()
    failed_before = request.session.testsfailed
    site = Cluster()
    # A SIGTERM (the CI's timeout) becomes an interrupt: pytest still runs the teardown below.
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    try:
        site.start_postgres()
        site.start_redis()
        site.make_env()
        # The release step, once, from one "machine": collectstatic and migrate.
        site.run_unit("newsreader-release.service")
        # The editor account, as the docs tell an operator to create it.
        subprocess.run(
            [str(PROJECT / ".venv" / "bin" / "python"), "manage.py", "create_editor", site.editor[0], "--no-input"],
            cwd=PROJECT,
            env={**site.env, "DJANGO_EDITOR_PASSWORD": site.editor[1]},
            check=True,
            capture_output=True,
            timeout=120,
        )
        site.start_app_servers()
        site.start_nginx()
        print(f"cluster up in {time.monotonic() - started:.1f} s: {site.tmp}")
        yield site
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        site.stop()
        if request.session.testsfailed > failed_before:
            print(site.log_tails())
        print(f"cluster test took {time.monotonic() - started:.1f} s in all")
        site.remove()


def story_row(site, url):
    """(id, slug, published) of the story whose lead has this URL, read from PostgreSQL."""
    import psycopg

    with psycopg.connect(site.database_url, connect_timeout=5) as connection:
        row = connection.execute(
            "SELECT s.id, s.slug, s.published FROM stories_story s JOIN stories_article a ON a.id = s.lead_id "
            "WHERE a.web_url = %s",
            [url],
        ).fetchone()
    assert row, f"no story for {url}"
    return row


def every_server(site):
    """A client per app server (directly, as the balancer talks to it) and two through the balancer."""
    clients = [(f"app server on :{port}", site.direct(port)) for port in site.app_ports]
    clients += [("balancer", site.balancer()), ("balancer again", site.balancer())]
    return clients


def assert_everywhere(site, path, status, *, contains=None, absent=None):
    for name, client in every_server(site):
        page = client.get(path)
        assert page.status == status, f"{name}: GET {path} answered {page.status}, expected {status}"
        if contains:
            assert contains in page.text, f"{name}: GET {path} does not show {contains!r}"
        if absent:
            assert absent not in page.text, f"{name}: GET {path} still shows {absent!r}"


def run_import_like_cron(site, folder):
    """The import, a process of its own: the command of deploy/cron/newsreader, run by sh as cron would."""
    line = next(line for line in (DEPLOY / "cron" / "newsreader").read_text().splitlines() if line.startswith("*/15 "))
    fields = line.split(None, 6)
    assert fields[5] == "newsreader", "the cron line runs as the newsreader user"
    command = localise(
        fields[6],
        [
            (f"{SRV}/incoming", str(folder)),
            ("/etc/newsreader/env", str(site.env_file)),
            ("/tmp/newsreader-import.lock", str(site.tmp / "import.lock")),
            (SRV, str(PROJECT)),
        ],
    )
    result = subprocess.run(
        ["/bin/sh", "-c", command],
        env={"PATH": site.env["PATH"], "HOME": str(site.tmp), "DJANGO_STATIC_ROOT": site.env["DJANGO_STATIC_ROOT"]},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, f"cron import: {command}\n{result.stdout}\n{result.stderr}"


def test_several_machines(cluster):
    site = cluster
    timings = {}
    mark = time.monotonic()

    # --- the balancer: health, TLS redirect, static files ----------------------------
    health = site.balancer().get("/healthz")
    assert (health.status, health.text.strip()) == (200, "ok")
    plain = site.balancer()
    plain.tls, plain.port = None, site.http_port
    assert plain.get("/healthz").status == 200, "/healthz over plain HTTP (port 80) is answered, not redirected"
    redirect = plain.get("/story/1/")
    assert redirect.status == 301
    assert redirect.header("Location") == "https://localhost/story/1/"

    home = site.balancer().get("/")
    assert home.status == 200
    hashed = re.search(r"/static/[\w/.-]+\.[0-9a-f]{12}\.css", home.text)
    assert hashed, "the home page links no hashed stylesheet"
    hashed = hashed.group(0)
    long_lived = site.balancer().get(hashed)
    assert long_lived.status == 200
    cache_control = long_lived.header("Cache-Control")
    assert "immutable" in cache_control and "public" in cache_control, cache_control
    assert int(re.search(r"max-age=(\d+)", cache_control).group(1)) >= 31536000, cache_control
    unhashed = re.sub(r"\.[0-9a-f]{12}(\.css)$", r"\1", hashed)
    short_lived = site.balancer().get(unhashed)
    assert short_lived.status == 200
    assert "immutable" not in short_lived.header("Cache-Control"), short_lived.header("Cache-Control")
    print(f"{hashed}: {cache_control}; {unhashed}: {short_lived.header('Cache-Control')}")
    timings["balancer checks"] = time.monotonic() - mark

    # --- an import by a third process (the timer's unit): a draft ---------------------
    mark = time.monotonic()
    incoming = site.tmp / "incoming"
    draft_url = "https://cluster.example.com/draft-story"
    write_document(incoming, "draft", "Clusterdraft headline", draft_url, published=False, month=2)
    site.run_unit("newsreader-import.service", replacements=[(f"{SRV}/incoming", str(incoming))])
    story_id, slug, published = story_row(site, draft_url)
    assert not published
    story_path = f"/story/{story_id}-{slug}/"
    timings["import (timer unit)"] = time.monotonic() - mark

    # Every server has the home page cached before the publish (anonymous readers).
    assert_everywhere(site, "/", 200, absent="Clusterdraft headline")
    assert_everywhere(site, story_path, 404)

    # --- the editor publishes through the balancer ------------------------------------
    mark = time.monotonic()
    editor = site.balancer()
    login = editor.login(*site.editor)
    assert login.status == 302 and login.header("Location") == "/admin/", (login.status, login.text[:500])
    assert editor.logged_in()
    done = editor.admin_action("publish_stories", story_id)
    assert done.status == 302, (done.status, done.text[:500])
    assert story_row(site, draft_url)[2] is True
    assert_everywhere(site, story_path, 200, contains="Clusterdraft headline")
    assert_everywhere(site, "/", 200, contains="Clusterdraft headline")

    # --- and unpublishes it: gone everywhere at once -----------------------------------
    done = editor.admin_action("unpublish_stories", story_id)
    assert done.status == 302, (done.status, done.text[:500])
    assert_everywhere(site, story_path, 404)
    assert_everywhere(site, "/", 200, absent="Clusterdraft headline")
    timings["publish/unpublish"] = time.monotonic() - mark

    # Round robin: both app servers answered the balancer.
    access = (site.tmp / "nginx-access.log").read_text()
    for port in site.app_ports:
        assert f"upstream=127.0.0.1:{port}" in access, f"the balancer never sent a request to :{port}"

    # --- an import by a third process (the cron line): seen everywhere at once --------
    mark = time.monotonic()
    cron_incoming = site.tmp / "incoming-cron"
    fresh_url = "https://cluster.example.com/fresh-story"
    write_document(cron_incoming, "fresh", "Clusterfresh headline", fresh_url, published=True, month=3)
    run_import_like_cron(site, cron_incoming)
    fresh_id, fresh_slug, _ = story_row(site, fresh_url)
    assert_everywhere(site, "/", 200, contains="Clusterfresh headline")
    assert_everywhere(site, f"/story/{fresh_id}-{fresh_slug}/", 200, contains="Clusterfresh headline")
    timings["import (cron line)"] = time.monotonic() - mark

    # --- login throttling counts the real client, not a header ------------------------
    mark = time.monotonic()
    username, password = site.editor
    # 127.0.0.4 pretends to be 127.0.0.3: nginx appends the real peer, the app counts that.
    forger = site.balancer(source="127.0.0.4", headers={"X-Forwarded-For": "127.0.0.3"})
    for attempt in range(5):
        answer = forger.login(username, f"wrong-{attempt}")
        assert answer.status < 500 and answer.status != 302, answer.status
    assert forger.login(username, password).status != 302 and not forger.logged_in(), "127.0.0.4 is locked out"
    # 127.0.0.2, five wrong passwords: locked out, even with the right one now.
    attacker = site.balancer(source="127.0.0.2")
    for attempt in range(5):
        answer = attacker.login(username, f"wrong-{attempt}")
        assert answer.status < 500 and answer.status != 302, answer.status
    refused = attacker.login(username, password)
    assert refused.status != 302 and not attacker.logged_in(), "127.0.0.2 is locked out"
    # The editor at 127.0.0.3 still gets in.
    other = site.balancer(source="127.0.0.3")
    login = other.login(username, password)
    assert login.status == 302 and other.logged_in(), f"the editor at 127.0.0.3 was locked out too ({login.status})"
    assert attacker.login(username, password).status != 302, "127.0.0.2 stays locked out"
    timings["throttling"] = time.monotonic() - mark

    # --- one app server dies mid-session -----------------------------------------------
    mark = time.monotonic()
    site.kill("app1")
    paths = ["/", f"/story/{fresh_id}-{fresh_slug}/", hashed, "/healthz", "/topics/", "/providers/"]

    def hit(n):
        client = site.balancer()
        page = client.get(paths[n % len(paths)])
        return paths[n % len(paths)], page.status

    with ThreadPoolExecutor(max_workers=4) as pool:
        burst = list(pool.map(hit, range(60)))
    errors = [(path, status) for path, status in burst if status >= 500]
    assert not errors, f"5xx through the balancer after an app server died: {errors}"
    assert all(status == 200 for _, status in burst), burst
    assert editor.logged_in(), "the editor's session survived the app server it was made on"
    done = editor.admin_action("publish_stories", story_id)
    assert done.status == 302, (done.status, done.text[:500])
    assert_everywhere_alive(site, story_path, 200)
    timings["app server killed"] = time.monotonic() - mark

    # --- PostgreSQL stops: /healthz says so within seconds, then recovers --------------
    mark = time.monotonic()
    site.pg_ctl("stop")
    survivor = site.direct(site.app_ports[1])
    started = time.monotonic()
    down = survivor.get("/healthz")
    took = time.monotonic() - started
    assert down.status == 503 and "database: unavailable" in down.text, (down.status, down.text)
    assert took < 8, f"/healthz took {took:.1f} s to report the database down"
    site.pg_ctl("start")
    wait_until(lambda: survivor.get("/healthz").status == 200, 30, "/healthz to recover after PostgreSQL restarted")
    timings["database down"] = time.monotonic() - mark
    print("timings: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items()))
    print(f"/healthz with PostgreSQL stopped answered 503 in {took:.2f} s")


def assert_everywhere_alive(site, path, status):
    """Like assert_everywhere, leaving out the app server that was killed."""
    for client in [site.direct(site.app_ports[1]), site.balancer(), site.balancer()]:
        page = client.get(path)
        assert page.status == status, f"GET {path}: {page.status}"
