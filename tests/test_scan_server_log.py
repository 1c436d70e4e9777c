"""The CI scan's reading of gunicorn's log (.ci/scan_server_log.py): an idle scanner connection
is reported, a request that timed out or failed is not let through."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / ".ci" / "scan_server_log.py"
spec = importlib.util.spec_from_file_location("scan_server_log", SCRIPT)
scan_server_log = importlib.util.module_from_spec(spec)
spec.loader.exec_module(scan_server_log)

# As gunicorn 27 wrote it in a CI run (paths shortened): a worker killed while it waited for a
# request line from a connection that sent nothing.
IDLE_CLIENT = """\
[2026-12-03 06:31:54 +0000] [31573] [CRITICAL] WORKER TIMEOUT (pid:31579)
[2026-12-03 06:31:54 +0000] [31579] [ERROR] Error handling request (no URI read)
Traceback (most recent call last):
  File "gunicorn/workers/sync.py", line 140, in handle
    req = next(parser)
          ^^^^^^^^^^^^
  File "gunicorn/http/unreader.py", line 100, in chunk
    return self.sock.recv(size)
           ^^^^^^^^^^^^^^^^^^^^
  File "gunicorn/workers/base.py", line 200, in handle_abort
    sys.exit(1)
SystemExit: 1
Not Found: /feeds/search.atom
[2026-12-03 06:31:55 +0000] [31573] [ERROR] Worker (pid:31579) was sent SIGKILL! Perhaps out of memory?
[2026-12-03 06:31:55 +0000] [3013] [INFO] Booting worker with pid: 3013
"""

SLOW_REQUEST = """\
[2026-12-03 06:40:00 +0000] [31573] [CRITICAL] WORKER TIMEOUT (pid:3013)
[2026-12-03 06:40:00 +0000] [3013] [ERROR] Error handling request /search/?q=news
Traceback (most recent call last):
  File "stories/search.py", line 1, in search_stories
SystemExit: 1
[2026-12-03 06:40:01 +0000] [31573] [ERROR] Worker (pid:3013) was sent SIGKILL! Perhaps out of memory?
"""

SERVER_ERROR = """\
Internal Server Error: /topics/ai/
Traceback (most recent call last):
  File "stories/views.py", line 9, in topic_detail
ValueError: boom
Not Found: /nowhere/
"""


def test_an_idle_scanner_connection_is_reported_not_failed(tmp_path, capsys):
    log = tmp_path / "server.log"
    log.write_text(IDLE_CLIENT)
    assert scan_server_log.main(log) == 0
    assert "1 worker timeout(s) with no request read" in capsys.readouterr().out


def test_a_request_that_timed_out_fails_with_its_traceback(tmp_path, capsys):
    log = tmp_path / "server.log"
    log.write_text(IDLE_CLIENT + SLOW_REQUEST)
    assert scan_server_log.main(log) == 1
    out = capsys.readouterr().out
    assert "Error handling request /search/?q=news" in out
    assert "WORKER TIMEOUT (pid:3013)" in out and "Worker (pid:3013) was sent SIGKILL" in out
    assert "pid:31579" not in out  # the idle connection's worker stays excused


def test_a_server_error_fails_with_its_traceback(tmp_path, capsys):
    log = tmp_path / "server.log"
    log.write_text(SERVER_ERROR)
    assert scan_server_log.main(log) == 1
    out = capsys.readouterr().out
    assert "Internal Server Error: /topics/ai/" in out and "ValueError: boom" in out
    assert "Not Found" not in out


def test_a_timeout_without_an_error_line_fails(tmp_path):
    log = tmp_path / "server.log"
    log.write_text("[2026-12-03 06:40:00 +0000] [1] [CRITICAL] WORKER TIMEOUT (pid:2)\n")
    assert scan_server_log.main(log) == 1
