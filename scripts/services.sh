#!/usr/bin/env bash
# Local Kafka (3.9, single KRaft node) and Apicurio Registry (3.x, in-memory) for synclog's
# stream mode and its integration tests, run from Maven Central jars: no Docker needed.
# See docs/services.md. Usage: scripts/services.sh help
set -euo pipefail

source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/services/common.sh"
source "$SERVICES_LIB/kafka.sh"
source "$SERVICES_LIB/registry.sh"

usage() {
  cat <<EOF
usage: scripts/services.sh COMMAND [kafka|registry] [options]

commands (without a service name they act on both):
  fetch     download the jars into $CACHE_DIR once (Maven Central, via mvn)
  start     fetch when missing, start, wait until each answers a real request, print endpoints;
            a service that already answers is left as it is
  stop      SIGTERM what this script started, SIGKILL after --stop-timeout seconds
  restart   stop, then start
  lease     (tests) record --lease PID as a user of the services; start nothing
  release   (tests) drop --lease PID; when no other live lease remains, stop what was
            started with --lease (services started without one are never stopped by this)
  status    print each endpoint; exit 0 only if every named service answers
  env       print the SYNCLOG_KAFKA_BROKERS / SYNCLOG_REGISTRY_URL lines to eval

options (environment variable in brackets, default after it):
  --kafka-port N           [SYNCLOG_KAFKA_PORT] 19092
  --controller-port N      [SYNCLOG_KAFKA_CONTROLLER_PORT] 19093
  --registry-port N        [SYNCLOG_REGISTRY_PORT] 18081
  --data-dir DIR           Kafka log dirs [SYNCLOG_KAFKA_DATA] <run-dir>/kafka-data
  --run-dir DIR            pid files, logs, generated config [SYNCLOG_SERVICES_RUN] .cache/services/run
  --timeout S              readiness timeout [SYNCLOG_SERVICES_TIMEOUT] 120
  --stop-timeout S         SIGKILL after [SYNCLOG_SERVICES_STOP_TIMEOUT] 30
  --fresh                  start: delete the Kafka data first (the in-memory registry always starts empty)
  --lease PID              start/lease/release: the test run (a live pid) that uses the services
also: SYNCLOG_KAFKA_VERSION (3.9.1), SYNCLOG_REGISTRY_VERSION (3.3.3 with Java 21+, else 3.0.9),
      SYNCLOG_KAFKA_HEAP (512m), SYNCLOG_REGISTRY_HEAP (384m), SYNCLOG_KAFKA_JAVA, SYNCLOG_REGISTRY_JAVA,
      SYNCLOG_REGISTRY_MANAGEMENT_PORT (0 = any), SYNCLOG_SERVICES_CACHE (.cache/services)
EOF
}

command="${1:-}"
[ -n "$command" ] || { usage >&2; exit 1; }
shift
services=()
fresh=
lease=
need_value() { [ $# -ge 2 ] && [ -n "$2" ] || die "$1 needs a value"; }
while [ $# -gt 0 ]; do
  case "$1" in
    kafka|registry) services+=("$1") ;;
    all) services=(kafka registry) ;;
    --kafka-port) need_value "$@"; KAFKA_PORT="$2"; shift ;;
    --controller-port) need_value "$@"; KAFKA_CONTROLLER_PORT="$2"; shift ;;
    --registry-port) need_value "$@"; REGISTRY_PORT="$2"; shift ;;
    --data-dir) need_value "$@"; KAFKA_DATA="$2"; shift ;;
    --run-dir) need_value "$@"; RUN_DIR="$2"; shift ;;
    --timeout) need_value "$@"; READY_TIMEOUT="$2"; shift ;;
    --stop-timeout) need_value "$@"; STOP_TIMEOUT="$2"; shift ;;
    --fresh) fresh=1 ;;
    --lease) need_value "$@"; lease="$2"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "unknown argument '$1'" ;;
  esac
  shift
done
[ ${#services[@]} -gt 0 ] || services=(kafka registry)
check_port_setting --kafka-port "$KAFKA_PORT"
check_port_setting --controller-port "$KAFKA_CONTROLLER_PORT"
check_port_setting --registry-port "$REGISTRY_PORT"
check_port_setting SYNCLOG_REGISTRY_MANAGEMENT_PORT "$REGISTRY_MANAGEMENT_PORT"
[[ "$READY_TIMEOUT" =~ ^[0-9]+$ ]] || die "--timeout must be a number of seconds, got '$READY_TIMEOUT'"
[[ "$STOP_TIMEOUT" =~ ^[0-9]+$ ]] || die "--stop-timeout must be a number of seconds, got '$STOP_TIMEOUT'"
[ "$KAFKA_PORT" != "$KAFKA_CONTROLLER_PORT" ] || die "--kafka-port and --controller-port must differ"
[ -z "$lease" ] || [[ "$lease" =~ ^[0-9]+$ ]] || die "--lease must be the pid of the process that uses the services, got '$lease'"
services_init

# Launch every named service first, then wait for them together: the JVMs boot side by side.
# Sets START_RC (0 when every named service answers).
START_RC=0
start_services() {
  local s
  START_RC=0
  for s in "${services[@]}"; do
    if [ "$s" = kafka ]; then kafka_launch "$fresh"; else registry_launch; fi
  done
  for s in "${services[@]}"; do "${s}_await" || START_RC=1; done
}

case "$command" in
  fetch)
    take_lock
    for s in "${services[@]}"; do "${s}_fetch"; done
    ;;
  start)
    take_lock
    if [ -n "$lease" ]; then
      # Also on failure: what did start is recorded, and goes with the last release.
      trap 'lease_take "$lease"' EXIT
    else
      lease_adopt "${services[@]}"
    fi
    start_services
    [ "$START_RC" = 0 ] || die "not every service started; logs in $RUN_DIR"
    ;;
  lease)
    [ -n "$lease" ] || die "lease needs --lease PID"
    take_lock
    lease_take "$lease"
    ;;
  release)
    [ -n "$lease" ] || die "release needs --lease PID"
    take_lock
    lease_release "$lease"
    ;;
  stop)
    take_lock
    stop_services "${services[@]}"
    ;;
  restart)
    take_lock
    stop_services "${services[@]}"
    lease_adopt "${services[@]}"
    start_services
    [ "$START_RC" = 0 ] || die "not every service started; logs in $RUN_DIR"
    ;;
  status)
    rc=0
    for s in "${services[@]}"; do "${s}_status" || rc=1; done
    exit "$rc"
    ;;
  env)
    echo "export SYNCLOG_KAFKA_BROKERS=$(kafka_endpoint)"
    echo "export SYNCLOG_REGISTRY_URL=$(registry_endpoint)"
    ;;
  help|-h|--help) usage ;;
  *) usage >&2; die "unknown command '$command'" ;;
esac
