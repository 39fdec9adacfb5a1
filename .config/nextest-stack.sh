#!/bin/sh
# nextest setup script (see nextest.toml next to it): one warm stack for the whole run, shared by
# every test process. A pooling WebDriver endpoint with warm browsers, and one fixtures-app,
# started by a `harness serve` that outlives this script and exits when cargo-nextest does (a
# pidfd on this script's parent, $PPID, taken before it announces: also after Ctrl-C or SIGKILL of
# nextest). Their variables go to $NEXTEST_ENV, so every test process sees WEBDRIVER_URL,
# HARNESS_WEBDRIVER_POOL and FIXTURES_APP_URL (+ _PID, _INSTANCE_ID, _LOG: a failing test's
# artifacts get the server's log) and leases instead of starting its own.
#
# HARNESS_NEXTEST_STACK=0 turns it off: each test process then starts its own driver and server
# (what the bench compares against). HARNESS_NEXTEST_POOL sets the pool size (default 4).
set -eu
if [ "${HARNESS_NEXTEST_STACK:-1}" = 0 ]; then
  exit 0
fi
target="${CARGO_TARGET_DIR:-target}"
logs="$target/nextest-stack"
mkdir -p "$logs"
# nextest built the tests, not these two binaries.
cargo build --quiet -p harness-e2e-cli -p fixtures-app
exec "$target/debug/harness" serve --detach --parent-pid "$PPID" \
  --env-file "$NEXTEST_ENV" --log-dir "$logs" \
  --browser "${HARNESS_BROWSER:-chrome}" --pool "${HARNESS_NEXTEST_POOL:-4}" \
  --server "fixtures-app=$target/debug/fixtures-app"
