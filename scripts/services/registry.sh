# Apicurio Registry 3.x (Quarkus) with in-memory H2 storage, from the distribution archive on
# Maven Central: io.apicurio:apicurio-registry-app:<version>:tar.gz:all (3.3.x, a quarkus-app
# folder) or :zip:all (3.0.x, a runner jar plus lib/). Sourced by scripts/services.sh.

registry_endpoint() { printf 'http://127.0.0.1:%s/apis/ccompat/v7' "$REGISTRY_PORT"; }
registry_log() { printf '%s/registry.log' "$RUN_DIR"; }

# The Java release a registry version was compiled for: 3.0.x runs on 17, later 3.x need 21.
registry_min_java() {
  case "$1" in
    2.*|3.0.*) echo 17 ;;
    *) echo 21 ;;
  esac
}

# Sets REGISTRY_VERSION (when not given) and REGISTRY_JAVA.
registry_choose() {
  [ -n "${REGISTRY_JAVA:-}" ] && return 0
  if [ -n "${SYNCLOG_REGISTRY_JAVA:-}" ]; then
    REGISTRY_JAVA="$SYNCLOG_REGISTRY_JAVA"
    REGISTRY_VERSION="${REGISTRY_VERSION:-$REGISTRY_DEFAULT_VERSION}"
    return 0
  fi
  if [ -n "$REGISTRY_VERSION" ]; then
    local min
    min="$(registry_min_java "$REGISTRY_VERSION")"
    REGISTRY_JAVA="$(find_java "$min")" \
      || die "Apicurio Registry $REGISTRY_VERSION needs Java $min or newer (set SYNCLOG_REGISTRY_JAVA)"
    return 0
  fi
  if REGISTRY_JAVA="$(find_java 21)"; then
    REGISTRY_VERSION="$REGISTRY_DEFAULT_VERSION"
  else
    REGISTRY_JAVA="$(find_java 17)" || die "Apicurio Registry needs Java 17 or newer"
    REGISTRY_VERSION="$REGISTRY_JAVA17_VERSION"
    say "note: no Java 21+ found; using Apicurio Registry $REGISTRY_VERSION, the newest 3.x here that runs on Java 17"
  fi
}

registry_home() { printf '%s/apicurio-registry-%s' "$CACHE_DIR" "$REGISTRY_VERSION"; }

# registry_download PACKAGING DIR LOG: puts apicurio-registry-app-<v>-all.<packaging> into DIR.
registry_download() {
  local packaging="$1" dir="$2" log="$3" coords file repo
  coords="io.apicurio:apicurio-registry-app:$REGISTRY_VERSION:$packaging:all"
  file="apicurio-registry-app-$REGISTRY_VERSION-all.$packaging"
  mvn_quiet "$log" dependency:copy -Dartifact="$coords" -DoutputDirectory="$dir" 2>/dev/null && [ -f "$dir/$file" ] && return 0
  # Some releases (3.0.9) lack their parent pom on Central: dependency:copy and the 3.x get
  # read it and fail, the 2.8 get with -Dtransitive=false does not. Copy from the local repo.
  mvn_quiet "$log" org.apache.maven.plugins:maven-dependency-plugin:2.8:get -Dartifact="$coords" -Dtransitive=false 2>/dev/null \
    || return 1
  repo="$("$MVN" -B -q -Dstyle.color=never -f "$SERVICES_LIB/pom.xml" help:evaluate -Dexpression=settings.localRepository -DforceStdout 2>/dev/null \
    | sed 's/\x1b\[[0-9;]*m//g')"
  [ -f "$repo/io/apicurio/apicurio-registry-app/$REGISTRY_VERSION/$file" ] || return 1
  cp "$repo/io/apicurio/apicurio-registry-app/$REGISTRY_VERSION/$file" "$dir/"
}

registry_fetch() {
  registry_choose
  local home dl archive="" packaging t0
  home="$(registry_home)"
  [ -f "$home/.complete" ] && return 0
  t0="$(now_ms)"
  dl="$home.download"
  say "fetching Apicurio Registry $REGISTRY_VERSION from Maven Central into $home (first run only, ~110-160 MB)"
  rm -rf "$dl" "$home" "$home.partial"
  mkdir -p "$dl"
  for packaging in tar.gz zip; do
    if registry_download "$packaging" "$dl" "$dl/fetch-$packaging.log"; then
      archive="$dl/apicurio-registry-app-$REGISTRY_VERSION-all.$packaging"
      break
    fi
  done
  [ -n "$archive" ] \
    || die "io.apicurio:apicurio-registry-app:$REGISTRY_VERSION has no :tar.gz:all or :zip:all on Maven Central (see $dl/fetch-*.log)"
  mkdir -p "$home.partial"
  case "$archive" in
    *.tar.gz) tar -xzf "$archive" -C "$home.partial" ;;
    *.zip)
      if command -v unzip >/dev/null 2>&1; then unzip -q "$archive" -d "$home.partial"
      else (cd "$home.partial" && jar xf "$archive"); fi ;;
  esac
  mv "$home.partial" "$home"
  rm -rf "$dl"
  registry_jar >/dev/null || die "no quarkus-run.jar or *-runner.jar in $home"
  touch "$home/.complete"
  say "Apicurio Registry $REGISTRY_VERSION: $(du -sh "$home" | cut -f1), fetched in $(elapsed_s "$t0") s"
}

registry_jar() {
  local home jar
  home="$(registry_home)"
  for jar in "$home/quarkus-run.jar" "$home"/*-runner.jar "$home"/*/quarkus-run.jar "$home"/*/*-runner.jar; do
    [ -f "$jar" ] && { printf '%s\n' "$jar"; return 0; }
  done
  return 1
}

registry_answers() {
  port_open "$REGISTRY_PORT" || return 1
  local rc=0 url
  url="$(registry_endpoint)"
  if command -v curl >/dev/null 2>&1; then
    curl -sf --max-time 3 "$url/subjects" | grep -q '^\[' || rc=1
  else
    probe registry "$url" || rc=$?
    [ "$rc" -eq 2 ] && die "neither curl nor node is available to check the registry"
  fi
  return "$rc"
}

# registry_launch: starts the registry unless it runs or answers already; sets REGISTRY_WAIT.
REGISTRY_WAIT=
registry_launch() {
  local pid jar log
  REGISTRY_WAIT=
  log="$(registry_log)"
  if pid="$(pid_of registry)"; then
    if registry_answers; then
      say "registry already running (pid $pid)"
    else
      REGISTRY_WAIT="$pid"
    fi
    return 0
  fi
  if registry_answers; then
    say "a registry already answers on $(registry_endpoint) (not started by this script; left alone)"
    return 0
  fi
  port_open "$REGISTRY_PORT" && die "port $REGISTRY_PORT is in use by a program that does not answer as a registry"
  registry_fetch
  jar="$(registry_jar)"
  say "starting Apicurio Registry $REGISTRY_VERSION (in-memory H2, heap $REGISTRY_HEAP, java $(java_major "$REGISTRY_JAVA")) on $(registry_endpoint)"
  launch registry "$log" "$REGISTRY_JAVA" -Dsynclog.service=registry \
    -Xms64m "-Xmx$REGISTRY_HEAP" -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true \
    -Dquarkus.http.host=127.0.0.1 "-Dquarkus.http.port=$REGISTRY_PORT" \
    -Dquarkus.management.host=127.0.0.1 "-Dquarkus.management.port=$REGISTRY_MANAGEMENT_PORT" \
    '-Dquarkus.log.console.format=%d{yyyy-MM-dd HH:mm:ss,SSS} %-5p [%c{2.}] (%t) %s%e%n' \
    -Dapicurio.storage.kind=sql -Dapicurio.storage.sql.kind=h2 \
    -Dapicurio.datasource.url=jdbc:h2:mem:synclog_registry \
    -Dapicurio.datasource.jdbc.initial-size=2 -Dapicurio.datasource.jdbc.min-size=2 -Dapicurio.datasource.jdbc.max-size=20 \
    -Dapicurio.rest.deletion.group.enabled=true -Dapicurio.rest.deletion.artifact.enabled=true \
    -Dapicurio.rest.deletion.artifact-version.enabled=true \
    -jar "$jar"
  REGISTRY_WAIT="$(cat "$(pid_file registry)")"
}

registry_await() { service_await registry "$REGISTRY_WAIT"; }

registry_status() { service_status registry; }
