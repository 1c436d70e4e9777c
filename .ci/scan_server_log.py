"""Read gunicorn's server log after the scan: print every error with its traceback; exit 1 if any.

One kind of worker timeout is the scanner's, not the site's: a client that opens a connection
and sends nothing for --timeout seconds holds a sync worker until gunicorn kills it, which logs
"WORKER TIMEOUT (pid:N)" then "[N] [ERROR] Error handling request (no URI read)" and the
traceback of the socket read it was waiting in. No request reached Django. In production
nginx reads the whole request before it passes it on (deploy/nginx/newsreader.conf), so no
client holds a worker that way; those are counted and reported, not failed on. A timeout while
a request was being handled names its URI instead, and fails like any other error.

    python .ci/scan_server_log.py SERVER_LOG
"""

import re
import sys

GUNICORN_LINE = re.compile(r"^\[[^\]]+\] \[(\d+)\] \[([A-Z]+)\] (.*)$")
TIMEOUT = re.compile(r"WORKER TIMEOUT \(pid:(\d+)\)")
KILLED = re.compile(r"Worker \(pid:(\d+)\) was sent SIGKILL")


def entries(lines):
    """Each log entry with the traceback that follows it (indented lines, then the exception line)."""
    entry = []
    in_traceback = False
    for line in lines:
        if line.startswith("Traceback (most recent call last):") and entry:
            in_traceback = True
            entry.append(line)
        elif in_traceback and line.startswith((" ", "\t")):
            entry.append(line)
        elif in_traceback:
            entry.append(line)  # the exception itself ends the traceback
            in_traceback = False
        else:
            if entry:
                yield entry
            entry = [line]
    if entry:
        yield entry


def classify(lines):
    """(idle-client timeouts, failing entries) of a server log's lines."""
    log = list(entries(lines))
    waiting = {}  # pid -> index of its WORKER TIMEOUT entry, until its error line shows why
    idle, idle_pids, excused = [], set(), set()
    for index, entry in enumerate(log):
        head = GUNICORN_LINE.match(entry[0])
        timeout = TIMEOUT.search(entry[0])
        if timeout:
            waiting[timeout.group(1)] = index
        elif head and head.group(1) in waiting and head.group(3) == "Error handling request (no URI read)":
            # The timed-out worker was waiting for a request line: an idle client.
            timeout_index = waiting.pop(head.group(1))
            idle.append(log[timeout_index] + entry)
            idle_pids.add(head.group(1))
            excused |= {timeout_index, index}
    failing = []
    for index, entry in enumerate(log):
        killed = KILLED.search(entry[0])
        if index in excused or (killed and killed.group(1) in idle_pids):
            continue  # the idle worker's timeout, its error line, and the master killing it after
        text = "\n".join(entry)
        if killed or TIMEOUT.search(text) or "Traceback" in text or "Internal Server Error" in text:
            failing.append(entry)
    return idle, failing


def main(path):
    with open(path, encoding="utf-8", errors="replace") as log:
        idle, failing = classify(log.read().splitlines())
    if idle:
        print(
            f"{len(idle)} worker timeout(s) with no request read: a scanner connection that sent nothing "
            "until gunicorn's timeout (nginx reads requests whole in production); not the site's"
        )
    for entry in failing:
        print("\n".join(entry))
    if failing:
        print(f"FAIL: the server log shows {len(failing)} error(s) or timeout(s) above")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
