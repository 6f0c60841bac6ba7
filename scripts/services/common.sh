# Shared settings and helpers for scripts/services.sh (sourced, not run).
# Progress goes to stderr; the endpoint lines ("kafka: ...", "registry: ...") go to stdout.

SERVICES_LIB="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SERVICES_LIB/../.." && pwd)"

# ---- settings: flags (parsed in services.sh) beat these environment variables, which beat defaults
KAFKA_VERSION="${SYNCLOG_KAFKA_VERSION:-3.9.1}"
KAFKA_PORT="${SYNCLOG_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${SYNCLOG_KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_HEAP="${SYNCLOG_KAFKA_HEAP:-512m}"
REGISTRY_VERSION="${SYNCLOG_REGISTRY_VERSION:-}"          # empty: 3.3.3 on Java >= 21, else 3.0.9 on Java 17
REGISTRY_PORT="${SYNCLOG_REGISTRY_PORT:-18081}"
REGISTRY_MANAGEMENT_PORT="${SYNCLOG_REGISTRY_MANAGEMENT_PORT:-0}"   # Quarkus health/metrics; 0 = any free port
REGISTRY_HEAP="${SYNCLOG_REGISTRY_HEAP:-384m}"
CACHE_DIR="${SYNCLOG_SERVICES_CACHE:-$REPO_ROOT/.cache/services}"
RUN_DIR="${SYNCLOG_SERVICES_RUN:-}"                        # default set in services_init: $CACHE_DIR/run
KAFKA_DATA="${SYNCLOG_KAFKA_DATA:-}"                       # default set in services_init: $RUN_DIR/kafka-data
READY_TIMEOUT="${SYNCLOG_SERVICES_TIMEOUT:-120}"
STOP_TIMEOUT="${SYNCLOG_SERVICES_STOP_TIMEOUT:-30}"
MVN="${SYNCLOG_MVN:-mvn}"

REGISTRY_DEFAULT_VERSION=3.3.3          # newest Apicurio 3.x on Maven Central; compiled for Java 21
REGISTRY_JAVA17_VERSION=3.0.9           # newest 3.0.x listed on Maven Central; runs on Java 17

services_init() {
  RUN_DIR="${RUN_DIR:-$CACHE_DIR/run}"
  KAFKA_DATA="${KAFKA_DATA:-$RUN_DIR/kafka-data}"
  mkdir -p "$CACHE_DIR" "$RUN_DIR"
  CACHE_DIR="$(cd "$CACHE_DIR" && pwd)"
  RUN_DIR="$(cd "$RUN_DIR" && pwd)"
  case "$KAFKA_DATA" in /*) ;; *) KAFKA_DATA="$PWD/$KAFKA_DATA" ;; esac
}

say() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: error: %s\n' "$*" >&2; exit 1; }
now_ms() { # GNU date has %N; elsewhere (macOS) whole seconds will do
  local t
  t="$(date +%s%3N)"
  [[ "$t" =~ ^[0-9]+$ ]] || t="$(date +%s)000"
  printf '%s\n' "$t"
}
elapsed_s() { awk -v a="$1" -v b="$(now_ms)" 'BEGIN { printf "%.1f", (b - a) / 1000 }'; }

check_port_setting() { # NAME VALUE
  [[ "$2" =~ ^[0-9]+$ ]] && [ "$2" -le 65535 ] || die "$1 must be a port number (0-65535), got '$2'"
}

# One start/stop at a time per run directory (two test runs starting the same broker).
take_lock() {
  exec 9>"$RUN_DIR/.lock"
  if command -v flock >/dev/null 2>&1; then
    if ! flock -n 9; then
      say "waiting for another scripts/services.sh to finish (lock $RUN_DIR/.lock)"
      flock -w 600 9 || die "another scripts/services.sh still holds $RUN_DIR/.lock after 600 s"
    fi
  fi
}

# True when something accepts TCP connections on 127.0.0.1:PORT.
port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# ---- processes started by this script: a pid file plus a marker on the java command line
pid_file() { printf '%s/%s.pid' "$RUN_DIR" "$1"; }

# Prints the pid of our running NAME process; removes a stale pid file.
pid_of() {
  local name="$1" file pid cmd
  file="$(pid_file "$name")"
  [ -s "$file" ] || return 1
  pid="$(cat "$file")"
  if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
    cmd="$(ps -ww -o args= -p "$pid" 2>/dev/null || true)"
    if [[ "$cmd" == *"-Dsynclog.service=$name "* ]]; then
      printf '%s\n' "$pid"
      return 0
    fi
  fi
  rm -f "$file"
  return 1
}

# launch NAME LOGFILE CMD...: starts CMD in its own session (Ctrl-C in the caller's terminal
# does not reach it), appends its output to LOGFILE, and writes the pid file.
launch() {
  local name="$1" log="$2" file i
  shift 2
  file="$(pid_file "$name")"
  rm -f "$file"
  LAUNCHED+=("$name")
  local detach=()
  command -v setsid >/dev/null 2>&1 && detach=(setsid)
  # The inner shell writes its own pid, then execs the JVM, so the pid file names the JVM
  # whether or not setsid had to fork.
  # fd 9 is the start/stop lock: the JVM must not inherit it.
  ( cd "$RUN_DIR" && exec ${detach[@]+"${detach[@]}"} sh -c 'echo $$ > "$0"; exec "$@"' "$file" "$@" >>"$log" 2>&1 </dev/null 9>&- ) &
  for i in $(seq 1 50); do
    [ -s "$file" ] && return 0
    sleep 0.1
  done
  die "$name did not start (no pid file after 5 s); see $log"
}

# wait_ready NAME PID LOG CHECK_FUNCTION
wait_ready() {
  local name="$1" pid="$2" log="$3" check="$4" t0 deadline
  t0="$(now_ms)"
  deadline=$(( $(date +%s) + READY_TIMEOUT ))
  say "waiting for $name to answer (up to ${READY_TIMEOUT} s; log: $log)"
  while :; do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "$name (pid $pid) exited before it was ready; last lines of $log:"
      tail -n 40 "$log" >&2 || true
      rm -f "$(pid_file "$name")"
      return 1
    fi
    if "$check" 2>/dev/null; then
      say "$name ready after $(elapsed_s "$t0") s (pid $pid)"
      return 0
    fi
    if [ "$(date +%s)" -ge "$deadline" ]; then
      say "$name (pid $pid) not ready after ${READY_TIMEOUT} s; last lines of $log:"
      tail -n 40 "$log" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

# stop_services NAME...: SIGTERM to each (only our own pids), wait up to STOP_TIMEOUT seconds
# for all of them together, then SIGKILL what is left.
stop_services() {
  local name pid t0 deadline names=() pids=() left i
  for name in "$@"; do
    if pid="$(pid_of "$name")"; then
      say "stopping $name (pid $pid, SIGTERM)"
      kill -TERM "$pid" 2>/dev/null || true
      names+=("$name"); pids+=("$pid")
    else
      say "$name: not running (no live pid file in $RUN_DIR)"
    fi
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  t0="$(now_ms)"
  deadline=$(( $(date +%s) + STOP_TIMEOUT ))
  while :; do
    left=0
    for i in "${!pids[@]}"; do kill -0 "${pids[$i]}" 2>/dev/null && left=1; done
    [ "$left" = 0 ] && break
    if [ "$(date +%s)" -ge "$deadline" ]; then
      for i in "${!pids[@]}"; do
        if kill -0 "${pids[$i]}" 2>/dev/null; then
          say "${names[$i]} (pid ${pids[$i]}) still running after ${STOP_TIMEOUT} s: SIGKILL"
          kill -KILL "${pids[$i]}" 2>/dev/null || true
        fi
      done
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  for name in "${names[@]}"; do rm -f "$(pid_file "$name")"; done
  say "${names[*]} stopped after $(elapsed_s "$t0") s"
}

# ---- leases: test runs that share the services. A run that starts services with --lease ID
# records them in leases/.started; `release --lease ID` stops those only when no other live
# lease (IDs are pids) remains, so one run's teardown never pulls the broker from under another.
LAUNCHED=()
leases_dir() { printf '%s/leases' "$RUN_DIR"; }

lease_take() { # ID
  mkdir -p "$(leases_dir)"
  : >"$(leases_dir)/$1"
  local s
  if [ ${#LAUNCHED[@]} -gt 0 ]; then
    for s in "${LAUNCHED[@]}"; do echo "$s"; done >>"$(leases_dir)/.started"
  fi
}

# A start without --lease adopts the named services: no test run's release stops them then.
lease_adopt() { # SERVICE...
  local file s keep
  file="$(leases_dir)/.started"
  [ -f "$file" ] || return 0
  keep="$(cat "$file")"
  for s in "$@"; do keep="$(printf '%s\n' "$keep" | grep -vx "$s" || true)"; done
  printf '%s\n' "$keep" | grep -v '^$' >"$file" || rm -f "$file"
}

lease_release() { # ID
  local dir f holder live=0 started
  dir="$(leases_dir)"
  rm -f "$dir/$1"
  for f in "$dir"/*; do
    [ -f "$f" ] || continue
    holder="$(basename "$f")"
    if [[ "$holder" =~ ^[0-9]+$ ]] && kill -0 "$holder" 2>/dev/null; then live=$((live + 1)); else rm -f "$f"; fi
  done
  [ -f "$dir/.started" ] || return 0
  if [ "$live" -gt 0 ]; then
    say "$live other test run(s) still use the services: left running"
    return 0
  fi
  started="$(sort -u "$dir/.started" | tr '\n' ' ')"
  rm -f "$dir/.started"
  # shellcheck disable=SC2086
  [ -n "${started// /}" ] && stop_services $started
  return 0
}

# ---- Java
java_major() { # JAVA_BIN -> major version (17, 21, 25, 8 for 1.8)
  "$1" -version 2>&1 | awk -F'"' '/version/ { print $2; exit }' | awk -F. '{ print ($1 == "1") ? $2 : $1 }'
}

# find_java MIN: prints a java binary of major version >= MIN. The java on PATH and $JAVA_HOME
# come first; otherwise the newest JDK under /usr/lib/jvm (Debian's layout, Temurin included).
find_java() {
  local min="$1" cand major best="" best_major=0
  for cand in "$(command -v java 2>/dev/null || true)" "${JAVA_HOME:+$JAVA_HOME/bin/java}"; do
    [ -n "$cand" ] && [ -x "$cand" ] || continue
    major="$(java_major "$cand")"
    if [ -n "$major" ] && [ "$major" -ge "$min" ]; then printf '%s\n' "$cand"; return 0; fi
  done
  for cand in /usr/lib/jvm/*/bin/java /Library/Java/JavaVirtualMachines/*/Contents/Home/bin/java; do
    [ -x "$cand" ] || continue
    major="$(java_major "$cand")"
    if [ -n "$major" ] && [ "$major" -ge "$min" ] && [ "$major" -gt "$best_major" ]; then
      best="$cand"; best_major="$major"
    fi
  done
  [ -n "$best" ] && { printf '%s\n' "$best"; return 0; }
  return 1
}

# ---- Maven
# mvn_quiet LOGFILE ARGS...: runs Maven on our fetch pom; prints the log's tail on failure.
mvn_quiet() {
  local log="$1"
  shift
  command -v "$MVN" >/dev/null 2>&1 || die "Maven ($MVN) is needed to fetch the services from Maven Central"
  if ! "$MVN" -B -ntp -f "$SERVICES_LIB/pom.xml" "$@" >"$log" 2>&1; then
    tail -n 30 "$log" >&2
    return 1
  fi
}

# ---- node probe (kafkajs metadata request, registry GET /subjects)
probe() { # probe kafka|registry TARGET
  if ! command -v node >/dev/null 2>&1 || [ ! -d "$REPO_ROOT/node_modules/kafkajs" ]; then
    return 2
  fi
  node "$SERVICES_LIB/probe.mjs" "$1" "$2" >/dev/null 2>&1
}

# service_await NAME PID: waits until the service NAME started as PID answers (NAME_answers), then
# prints its endpoint line; when it does not answer in time, stops it and fails. No PID: it was
# already running, only the endpoint is printed.
service_await() {
  local name="$1" pid="$2"
  if [ -n "$pid" ] && ! wait_ready "$name" "$pid" "$("${name}_log")" "${name}_answers"; then
    stop_services "$name"
    say "$name did not start"
    return 1
  fi
  echo "$name: $("${name}_endpoint")"
}

# service_status NAME: one line about NAME; exit 0 only if it answers.
service_status() {
  local name="$1" pid
  if "${name}_answers"; then
    if pid="$(pid_of "$name")"; then
      echo "$name: $("${name}_endpoint") (up, pid $pid)"
    else
      echo "$name: $("${name}_endpoint") (up, not started by this script)"
    fi
    return 0
  fi
  if pid="$(pid_of "$name")"; then
    echo "$name: down (pid $pid is running but does not answer on $("${name}_endpoint"); log: $("${name}_log"))"
  else
    echo "$name: down"
  fi
  return 1
}
