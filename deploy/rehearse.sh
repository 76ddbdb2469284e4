#!/usr/bin/env bash
# A rehearsal of kdlab's deployment on one machine, and the deployment example of docs/deployment.md:
# PostgreSQL, a Ray head and a second Ray node (token authentication on), two Streamlit replicas and
# nginx with ip_hash in front, all on localhost; then a student in headless Chromium, through nginx,
# trains on the Ray cluster (two browsers of two laptops counted as two clients meanwhile), the student's
# replica is killed, and the student finds the run on the other replica (deploy/rehearse_browser.py). Everything started here is stopped at the end, also on
# failure. Run from the repository root:  deploy/rehearse.sh   (exit 0 when everything held; the
# last line is the summary). Needs nginx, Chromium, PostgreSQL and the ray and postgres extras (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

WORK="$(mktemp -d /tmp/kdlab-rehearsal.XXXXXX)"
chmod 755 "$WORK"
# Every process started here carries this mark in its environment (and the script itself does not):
# the stop step ends exactly those, never another user's Ray (`ray stop` would end every Ray here).
MARK="kdlab-rehearsal-$$-$RANDOM"
STALE_SECONDS=6 # a killed replica's runs show as cut off this long after its last heartbeat
REPLICA_PIDS=()
SUMMARY="rehearsal: FAIL"
say() { echo "rehearsal: $*" >&2; }

RAY_SESSIONS=() # each `ray start` runs as a session leader: its daemons and workers keep that session id
started_pids() {
  local proc
  for proc in /proc/[0-9]*; do
    if { tr '\0' '\n' <"$proc/environ"; } 2>/dev/null | grep -qx "REHEARSAL_MARK=$MARK"; then
      echo "${proc#/proc/}"
    fi
  done
  # Ray's agents retitle themselves (setproctitle), which overwrites the environment that holds the mark.
  for session in "${RAY_SESSIONS[@]}"; do
    ps -eo pid=,sid=,stat= | awk -v sid="$session" '$2 == sid && $3 !~ /^Z/ { print $1 }'
  done
}

stop_all() {
  local status=$?
  set +e
  for pid in "${REPLICA_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
  for _ in $(seq 20); do # the replicas first, so that they never log a database that went away
    alive=0
    for pid in "${REPLICA_PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [ "$alive" -eq 0 ] && break
    sleep 0.5
  done
  [ -f "$WORK/nginx/nginx.pid" ] && nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -s stop 2>/dev/null
  python tests/postgres.py stop "$WORK/pg"
  # Ray's processes (head, second node, workers) and anything else left: TERM, then KILL after 5 s.
  local left
  left="$(started_pids)"
  [ -n "$left" ] && kill $left 2>/dev/null
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    left="$(started_pids)"
    [ -z "$left" ] && break
    sleep 0.5
  done
  [ -n "$left" ] && kill -9 $left 2>/dev/null && sleep 1
  left="$(started_pids)"
  if [ -n "$left" ]; then
    say "still running after the stop: $(ps -o pid=,args= -p "${left//$'\n'/,}" | cut -c1-80 | tr '\n' ';')"
    SUMMARY="rehearsal: FAIL (processes left running)"
    status=1
  fi
  if [ "$status" -ne 0 ]; then
    say "logs kept in $WORK"
    tail -n 20 "$WORK"/replica-*.log "$WORK/ray-head.log" 2>/dev/null | sed 's/^/  /' >&2
    [[ $SUMMARY == "rehearsal: PASS"* ]] && SUMMARY="rehearsal: FAIL"
  else
    rm -rf "$WORK"
  fi
  echo "$SUMMARY"
  exit "$status"
}
trap stop_all EXIT

free_port() { python -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
marked() { env REHEARSAL_MARK="$MARK" "$@"; }

for tool in nginx ray curl /usr/bin/chromium; do # .ci/run installs them on a fresh machine
  command -v "$tool" >/dev/null || { say "needs $tool (apt-get install nginx chromium; pip install -e '.[ray,postgres]')"; exit 1; }
done

# The data: full MNIST beside the checkout if it is there, else (or with REHEARSAL_DATA=sample) the offline sample.
if [ "${REHEARSAL_DATA:-}" != sample ] && [ -d ../shared/data/MNIST/raw ]; then
  DATA=(KDLAB_DATA_DIR="$(cd ../shared/data && pwd)") DATA_KIND=full
else
  DATA=(KDLAB_OFFLINE=1) DATA_KIND=sample
fi
# One cache folder for the teacher files, shared by the replicas and the Ray workers (the database is PostgreSQL).
COMMON=(PYTHONPATH="$PWD" KDLAB_CACHE_DIR="$WORK/cache" KDLAB_DEVICE=cpu "${DATA[@]}")

started=$SECONDS
# 1. PostgreSQL: a throwaway cluster (tests/postgres.py: initdb, trust on 127.0.0.1, a free port).
DATABASE_URL="$(marked python tests/postgres.py start "$WORK/pg")"
say "postgres at ${DATABASE_URL##*@}"

# 2. Ray with token authentication: without it, anyone who reaches the GCS port runs code on the cluster.
python -c 'import secrets; print(secrets.token_hex(32))' >"$WORK/ray-token"
chmod 600 "$WORK/ray-token"
RAY_AUTH=(RAY_AUTH_MODE=token RAY_AUTH_TOKEN_PATH="$WORK/ray-token")
RAY_PORT="$(free_port)"
RAY_OPTIONS=(--num-cpus=1 --node-ip-address=127.0.0.1 --object-store-memory=500000000 --disable-usage-stats)
ray_node() { # ray start as the leader of a new session (its id recorded first), so the stop finds every process it left
  local name=$1
  shift
  local failed=0
  setsid -w bash -c 'echo $$ >"$0"; exec "$@"' "$WORK/$name.sid" \
    env REHEARSAL_MARK="$MARK" "${RAY_AUTH[@]}" "${COMMON[@]}" ray start "$@" >"$WORK/$name.log" 2>&1 || failed=1
  RAY_SESSIONS+=("$(cat "$WORK/$name.sid" 2>/dev/null)")
  [ "$failed" -eq 0 ] || { say "ray start failed ($name.log)"; exit 1; }
}
ray_node ray-head --head --port="$RAY_PORT" --temp-dir="$WORK/ray" --include-dashboard=false "${RAY_OPTIONS[@]}"
ray_node ray-node --address="127.0.0.1:$RAY_PORT" "${RAY_OPTIONS[@]}"
say "ray head at 127.0.0.1:$RAY_PORT and a second node, 1 CPU each, token authentication on"

# 3. Two Streamlit replicas on the one database, the one cluster and the one teacher cache, listening on
# 127.0.0.1 only: nginx is the way in, and its X-Forwarded-For is the client's address (one job per address
# here, so that the browser test sees two laptops as two clients and two browsers of one as one).
PORTS=("$(free_port)" "$(free_port)")
for i in 0 1; do
  # env, not the marked function: in the background a function runs in a subshell, and $! must be the server's pid.
  env REHEARSAL_MARK="$MARK" "${RAY_AUTH[@]}" "${COMMON[@]}" \
    KDLAB_DATABASE_URL="$DATABASE_URL" KDLAB_RAY_ADDRESS=auto RAY_ADDRESS="127.0.0.1:$RAY_PORT" \
    KDLAB_MAX_JOBS=1 KDLAB_HEARTBEAT_STALE_SECONDS="$STALE_SECONDS" \
    KDLAB_TRUSTED_PROXY_HEADER=X-Forwarded-For KDLAB_MAX_JOBS_PER_CLIENT=1 \
    python -m streamlit run app.py --server.port "${PORTS[$i]}" --server.address 127.0.0.1 \
    --server.headless true --browser.gatherUsageStats false >"$WORK/replica-$((i + 1)).log" 2>&1 &
  REPLICA_PIDS+=("$!")
  disown "$!" # the kill below is the rehearsal's, not news for bash to report
done

# 4. nginx in front, every path under its prefix.
NGINX_PORT="$(free_port)"
mkdir -p "$WORK/nginx"
sed -e "s|@PREFIX@|$WORK/nginx|g" -e "s|@PORT@|$NGINX_PORT|g" \
  -e "s|@REPLICA_1@|${PORTS[0]}|g" -e "s|@REPLICA_2@|${PORTS[1]}|g" deploy/nginx.conf.template >"$WORK/nginx/nginx.conf"
marked nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -e "$WORK/nginx/error.log"

for i in 0 1; do
  for _ in $(seq 120); do
    curl -fs "http://127.0.0.1:${PORTS[$i]}/_stcore/health" >/dev/null && break
    kill -0 "${REPLICA_PIDS[$i]}" 2>/dev/null || { say "replica $((i + 1)) exited"; exit 1; }
    sleep 0.5
  done
done
curl -fs "http://127.0.0.1:$NGINX_PORT/_stcore/health" >/dev/null
say "replicas on ${PORTS[0]} and ${PORTS[1]}, nginx on $NGINX_PORT; up in $((SECONDS - started)) s"

# A driver with a wrong token is refused (in the background while the browser test runs: Ray retries for 20 s).
env -u RAY_AUTH_TOKEN_PATH RAY_AUTH_MODE=token RAY_AUTH_TOKEN=not-the-token REHEARSAL_MARK="$MARK" \
  timeout 60 python -c "import ray; ray.init(address='127.0.0.1:$RAY_PORT', log_to_driver=False)" \
  >"$WORK/wrong-token.log" 2>&1 &
WRONG_TOKEN_PID=$!

# 5. The student, in headless Chromium, through nginx from 127.0.0.2; a second browser of that laptop and a
# classmate's from 127.0.0.3 beside it.
marked env "${RAY_AUTH[@]}" PYTHONPATH="$PWD" python deploy/rehearse_browser.py \
  --url "http://127.0.0.1:$NGINX_PORT" --access-log "$WORK/nginx/access.log" --mark "$MARK" \
  --replica "${PORTS[0]}=${REPLICA_PIDS[0]}" --replica "${PORTS[1]}=${REPLICA_PIDS[1]}" \
  --stale-seconds "$STALE_SECONDS" --data "$DATA_KIND" --out "$WORK/browser.json"

if wait "$WRONG_TOKEN_PID" || ! grep -q "InvalidAuthToken" "$WORK/wrong-token.log"; then
  say "a driver with a wrong token was not refused:"
  tail -n 5 "$WORK/wrong-token.log" >&2
  exit 1
fi
say "a driver with a wrong token was refused (InvalidAuthToken)"

TIMINGS="$(python - "$WORK/browser.json" <<'EOF'
import json, sys
t = json.load(open(sys.argv[1]))
print(f"2 laptops = 2 clients in {t['two_clients_s']:.0f} s, train {t['train_s']:.0f} s, fail-over {t['failover_s']:.0f} s, cut off shown {t['cut_off_s']:.0f} s after the kill")
EOF
)"
SUMMARY="rehearsal: PASS (postgres, ray 2 nodes with token auth, 2 replicas, nginx ip_hash; $TIMINGS; total $((SECONDS - started)) s; all stopped)"
