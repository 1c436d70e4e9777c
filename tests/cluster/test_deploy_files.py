"""deploy/ holds the real files and docs/deployment.md shows exactly them (no server started).

Each file is shown in the docs as a fenced block right after a ``<!-- deploy/PATH -->``
line; the block must equal the file byte for byte, and every file under deploy/ must
be shown.
"""

import re
import shlex
import shutil
import subprocess

import pytest

from tests.cluster.cluster import DEPLOY, PROJECT, Cluster, read_env_file, read_unit

DOCS = PROJECT / "docs" / "deployment.md"
EMBEDDED = re.compile(r"^<!-- (deploy/[^ ]+) -->\n```[a-z]*\n(.*?)^```$", re.M | re.S)


def embedded_blocks():
    return {path: text for path, text in EMBEDDED.findall(DOCS.read_text(encoding="utf-8"))}


def test_docs_show_every_deploy_file_exactly():
    blocks = embedded_blocks()
    files = sorted(str(path.relative_to(PROJECT)) for path in DEPLOY.rglob("*") if path.is_file())
    assert sorted(blocks) == files, "docs/deployment.md must embed each file under deploy/ once"
    for path, text in blocks.items():
        assert text.encode() == (PROJECT / path).read_bytes(), f"docs/deployment.md's copy of {path} differs"


def test_app_servers_never_migrate():
    for unit in (DEPLOY / "systemd").glob("newsreader@*.service"):
        for line in unit.read_text().splitlines():
            if line.startswith("Exec"):
                assert "migrate" not in line and " release" not in line, f"{unit.name}: {line}"


def test_gunicorn_command_comes_from_the_unit():
    site = Cluster.__new__(Cluster)
    site.env = {"NEWSREADER_BIND": "127.0.0.1", "GUNICORN_WORKERS": "2"}
    args, _, cwd = site.unit_command("newsreader@.service", instance=8123)
    assert args[0] == str(PROJECT / ".venv" / "bin" / "gunicorn")
    assert shlex.join(args[1:6]) == "newsreader.wsgi --bind 127.0.0.1:8123 --workers 2"
    assert cwd == str(PROJECT)
    unit = read_unit(DEPLOY / "systemd" / "newsreader@.service")
    assert "EnvironmentFile=/etc/newsreader/env" in unit.path.read_text()
    assert "User=newsreader" in unit.path.read_text()


def test_env_example_holds_no_secret():
    values = read_env_file(DEPLOY / "env.example")
    assert values["DJANGO_SECRET_KEY"] == "", "leave the key empty: the site then refuses to start until it is set"
    assert values["DJANGO_DEBUG"] == "false" and values["TRUSTED_PROXY_COUNT"] == "1"
    for name in ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOWED_HOSTS", "DATABASE_CONNECT_TIMEOUT", "REDIS_TIMEOUT"):
        assert name in values


@pytest.mark.skipif(not shutil.which("systemd-analyze"), reason="systemd-analyze not installed")
def test_systemd_units_verify(tmp_path):
    """systemd-analyze verify finds nothing wrong but the missing /srv/newsreader on this machine."""
    for unit in sorted((DEPLOY / "systemd").iterdir()):
        shutil.copy(unit, tmp_path / unit.name)
    units = sorted(str(path) for path in tmp_path.iterdir())
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True, timeout=60, cwd=tmp_path
    )
    problems = [
        line
        for line in (result.stdout + result.stderr).splitlines()
        if line.strip() and not re.search(r"Command /srv/newsreader/\S+ is not executable", line)
    ]
    assert not problems, "\n".join(problems)
