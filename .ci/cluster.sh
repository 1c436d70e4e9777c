#!/usr/bin/env bash
# The several-machine test (tests/cluster/test_cluster.py): Debian's nginx balancing over two
# gunicorn app servers, with one PostgreSQL and one Redis, every one started by the test from
# the files in deploy/ and stopped at its end. Called by .ci/run; by hand: bash .ci/cluster.sh
# Under CI=true a missing nginx, PostgreSQL or Redis fails the test instead of skipping it.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null && ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends nginx >/dev/null
fi

make -s .venv/.installed-dev
NEWSREADER_CLUSTER_TEST=1 timeout 900 .venv/bin/python -m pytest tests/cluster -v -s "$@"
