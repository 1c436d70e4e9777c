"""One truth on one machine: what any process changes, every process serves next.

Real processes, default settings (no Redis): gunicorn with four workers keeps its
pages in each worker's local memory, and the content generation that keys them
is shared through a file. The changes come from elsewhere, as they do in use: an
import run by a separate `manage.py`, and an editor's publish and unpublish in
the admin, handled by whichever worker the request lands on.

Gunicorn's access log names the worker (pid) that answered each request, so the
test knows every worker had the old page cached before the change, and that the
answers after it came from several workers.
"""

import http.cookiejar
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection

from bench.common import free_port
from tests.dbutil import PROJECT, manage_env, query, run_manage, scratch_database

pytestmark = pytest.mark.django_db(transaction=True)

WORKERS = 4
REQUESTS = 40
SERVER_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "p9Lm2Xq7Rt4Vw8Zb3Nc6Hj1Kd5Fg0Sa2Ue7Yi4Oo9Pl3Mk8Nj6Bh1Gv5Cf0Dx2Ez",
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_SSL": "false",
    "DJANGO_PLAIN_STATIC": "true",
    "PAGE_CACHE_SECONDS": "600",  # long: only the generation can make a page fresh within this test
}
EDITOR_PASSWORD = "a-long-editor-password-for-processes-1"


def document(path, title, url, *, published=True, topic="Shared Topic", outlet="shared-outlet.example"):
    path.write_text(
        "---\n"
        f'title: "{title}"\n'
        f'excerpt: "What {title} is about."\n'
        "publishedDateTime: 2024-05-01T12:00:00Z\n"
        f'webUrl: "{url}"\n'
        f"published: {'true' if published else 'false'}\n"
        f"provider:\n  name: Shared Outlet\n  domain: {outlet}\n"
        f"topics:\n  - {topic}\n"
        "---\n",
        encoding="utf-8",
    )
    return path


class Server:
    """gunicorn with several sync workers on a scratch database, its access log naming each worker."""

    def __init__(self, database_url, tmp_path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.access_log = tmp_path / "access.log"
        # Without REDIS_URL: the default local-memory cache, per worker.
        env = {k: v for k, v in manage_env(database_url, **SERVER_ENV).items() if k != "REDIS_URL"}
        self.process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "newsreader.wsgi", "--workers", str(WORKERS),
             "--bind", f"127.0.0.1:{self.port}", "--timeout", "30", "--log-level", "warning", "--no-control-socket",
             "--access-logfile", str(self.access_log), "--access-logformat", "%(p)s %(s)s %(U)s"],
            cwd=PROJECT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 30
        while self.status("/robots.txt") != 200:
            assert self.process.poll() is None, self.process.stderr.read()
            assert time.monotonic() < deadline, "gunicorn did not start"
            time.sleep(0.2)

    def get(self, path, opener=None):
        try:
            with (opener or urllib.request.build_opener()).open(self.base + path, timeout=10) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode()
        except OSError:
            return None, ""

    def status(self, path):
        return self.get(path)[0]

    def burst(self, path):
        """REQUESTS concurrent-ish GETs (8 at a time, so every worker takes some): [(status, body)]."""
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(lambda _: self.get(path), range(REQUESTS)))

    def workers_that_served(self, path):
        time.sleep(0.3)  # the access log is written after the response
        pattern = re.compile(rf"^<(\d+)> \d+ {re.escape(path)}$")
        lines = self.access_log.read_text().splitlines()
        return {m.group(1) for m in map(pattern.match, lines) if m}

    def stop(self):
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def warm(server, paths):
    """Every worker serves (and so caches) every path; returns the bodies seen."""
    bodies = {}
    for path in paths:
        for _ in range(5):
            answers = server.burst(path)
            if len(server.workers_that_served(path)) == WORKERS:
                break
        assert len(server.workers_that_served(path)) == WORKERS, f"not every worker served {path}"
        assert {status for status, _ in answers} == {200}, path
        bodies[path] = answers[0][1]
    return bodies


def assert_everywhere(server, path, *, status=200, contains=(), lacks=()):
    answers = server.burst(path)
    statuses = [s for s, _ in answers]
    assert statuses.count(status) == REQUESTS, f"{path}: {statuses.count(status)} of {REQUESTS} answered {status}"
    for needle in contains:
        missing = sum(needle not in body for _, body in answers)
        assert missing == 0, f"{path}: {missing} of {REQUESTS} answers lack {needle!r}"
    for needle in lacks:
        present = sum(needle in body for _, body in answers)
        assert present == 0, f"{path}: {present} of {REQUESTS} answers still show {needle!r}"


def story_path(url, title):
    return query(
        url, f"from stories.models import Story; print(Story.objects.get(lead__title={title!r}).get_absolute_url())"
    )


def admin_session(server, url):
    query(
        url,
        "from django.contrib.auth.models import Group, User; "
        f"u = User.objects.create_user('processes-editor', password={EDITOR_PASSWORD!r}, is_staff=True); "
        "u.groups.add(Group.objects.get(name='Editors'))",
    )
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    status, page = server.get("/admin/login/", opener)
    assert status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {
        "username": "processes-editor",
        "password": EDITOR_PASSWORD,
        "next": "/admin/",
        "csrfmiddlewaretoken": token,
    }
    with opener.open(server.base + "/admin/login/", urllib.parse.urlencode(form).encode(), timeout=10) as response:
        assert response.status == 200 and "Log out" in response.read().decode()
    return opener


def admin_action(server, opener, action, story_id):
    status, page = server.get("/admin/stories/story/", opener)
    assert status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    form = {"action": action, "_selected_action": story_id, "index": 0, "csrfmiddlewaretoken": token}
    with opener.open(server.base + "/admin/stories/story/", urllib.parse.urlencode(form).encode(), timeout=10) as r:
        assert r.status == 200
        return r.read().decode()


COVERAGE_TITLE = "Another outlet covers it"


def covered_document(path, title, *, excerpt="What it is about."):
    """A published story led by the shared outlet, covered by one other outlet."""
    path.write_text(
        "---\n"
        f'title: "{title}"\n'
        f'excerpt: "{excerpt}"\n'
        "publishedDateTime: 2024-05-01T13:00:00Z\n"
        'webUrl: "https://shared-outlet.example/covered"\n'
        "provider:\n  name: Shared Outlet\n  domain: shared-outlet.example\n"
        "topics:\n  - Shared Topic\n"
        "related:\n"
        f'  - title: "{COVERAGE_TITLE}"\n'
        "    publishedDateTime: 2024-05-01T14:00:00Z\n"
        '    webUrl: "https://other-outlet.example/covers"\n'
        "    provider:\n      name: Other Outlet\n      domain: other-outlet.example\n"
        "---\n",
        encoding="utf-8",
    )


def test_every_worker_serves_what_another_process_changed(tmp_path, monkeypatch):
    monkeypatch.delenv("REDIS_URL", raising=False)
    if connection.vendor == "sqlite":  # the default: beside the database file, shared by all its users
        monkeypatch.delenv("CONTENT_GENERATION_FILE", raising=False)
    else:  # the default would be in the project's var/: keep the test's own out of it
        monkeypatch.setenv("CONTENT_GENERATION_FILE", str(tmp_path / "content-generation"))
    docs = tmp_path / "docs"
    docs.mkdir()
    document(docs / "kept.md", "Kept steady story", "https://shared-outlet.example/kept")
    taken = document(docs / "taken.md", "Taken down story", "https://shared-outlet.example/taken")
    document(docs / "draft.md", "Editors draft story", "https://shared-outlet.example/draft", published=False)
    covered = docs / "covered.md"
    covered_document(covered, "Story with coverage")

    with scratch_database(tmp_path) as url:
        assert run_manage(url, "import_stories", "-v", "0", str(docs)).returncode == 0
        taken_page, draft_page = story_path(url, "Taken down story"), story_path(url, "Editors draft story")
        draft_id = draft_page.split("/")[2].split("-")[0]
        lists = ["/", "/topics/shared-topic/", "/providers/shared-outlet-example/", "/feeds/latest.rss",
                 "/feeds/topics/shared-topic.rss"]  # fmt: skip
        server = Server(url, tmp_path)
        try:
            before = warm(server, [taken_page, *lists, "/topics/", "/sitemap.xml"])
            assert "Taken down story" in before["/"] and "Editors draft story" not in before["/"]
            # What comes from the caches below the page (each worker's copy of the topic directory,
            # the topic's cached weekly chart) counts the 3 published stories on the topic.
            assert '<span class="count">3 stories</span>' in before["/topics/"]
            assert "3 stories in all" in before["/topics/shared-topic/"]
            sections = re.findall(r"<loc>[^<]*?(/sitemap-[^<]+)</loc>", before["/sitemap.xml"])
            sitemap_sections = [path for path, body in warm(server, sections).items() if "/story/" in body]
            assert any(taken_page in body for body in warm(server, sitemap_sections).values())

            # 1. Another process re-imports the story's document, now unpublished: gone everywhere at once.
            document(taken, "Taken down story", "https://shared-outlet.example/taken", published=False)
            result = run_manage(url, "import_stories", "-v", "0", str(docs))
            assert result.returncode == 0, result.stderr
            assert_everywhere(server, taken_page, status=404)
            assert len(server.workers_that_served(taken_page)) == WORKERS
            for path in lists:
                assert_everywhere(server, path, contains=["Kept steady story"], lacks=["Taken down story", taken_page])
            for path in sitemap_sections:
                assert_everywhere(server, path, contains=["/story/"], lacks=[taken_page])
            assert_everywhere(server, "/topics/", contains=['<span class="count">2 stories</span>'])
            assert_everywhere(server, "/topics/shared-topic/", contains=["2 stories in all"])

            # 2. Another process imports a new story: on every list at once.
            document(docs / "new.md", "Newly imported story", "https://shared-outlet.example/new")
            assert run_manage(url, "import_stories", "-v", "0", str(docs)).returncode == 0
            for path in lists:
                assert_everywhere(server, path, contains=["Newly imported story"])
            new_page = story_path(url, "Newly imported story")
            assert_everywhere(server, new_page, contains=["Newly imported story"])
            for path in sitemap_sections:
                assert_everywhere(server, path, contains=[new_page])
            assert_everywhere(server, "/topics/", contains=['<span class="count">3 stories</span>'])
            assert_everywhere(server, "/topics/shared-topic/", contains=["3 stories in all"])

            # 3. An editor publishes the draft in the admin, on whichever worker: every worker serves it.
            editor = admin_session(server, url)
            assert "Published 1 story." in admin_action(server, editor, "publish_stories", draft_id)
            assert_everywhere(server, draft_page, contains=["Editors draft story"])
            for path in lists:
                assert_everywhere(server, path, contains=["Editors draft story"])

            # 4. ...and unpublishes it: every worker answers 404 at once, no list shows it.
            assert "Unpublished 1 story." in admin_action(server, editor, "unpublish_stories", draft_id)
            assert_everywhere(server, draft_page, status=404)
            for path in lists:
                assert_everywhere(server, path, lacks=["Editors draft story"])
            for path in sitemap_sections:
                assert_everywhere(server, path, contains=[new_page], lacks=[draft_page])
            assert len(server.workers_that_served(draft_page)) == WORKERS

            # 5. Another process takes one coverage item down: every worker's page and card drop it and
            # its count at once, and a re-import by yet another process does not bring it back.
            covered_page = story_path(url, "Story with coverage")
            warm(server, [covered_page, "/"])
            assert_everywhere(server, covered_page, contains=[COVERAGE_TITLE, "Reported by 2 outlets"])
            query(
                url,
                "from stories import takedown; from stories.models import Article, Story; "
                "story = Story.objects.get(lead__title='Story with coverage'); "
                f"takedown.hide_coverage(story, Article.objects.get(title={COVERAGE_TITLE!r}), 'A legal request')",
            )
            for path in (covered_page, "/"):
                assert_everywhere(server, path, contains=["Reported by 1 outlet"], lacks=[COVERAGE_TITLE])
            covered_document(covered, "Story with coverage", excerpt="A newer version of the document.")
            assert run_manage(url, "import_stories", "-v", "0", str(docs)).returncode == 0
            assert_everywhere(
                server, covered_page, contains=["A newer version of the document."], lacks=[COVERAGE_TITLE]
            )
        finally:
            server.stop()
