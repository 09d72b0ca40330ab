#!/usr/bin/env bash
# bench/run.sh — `make bench`: online-signing throughput and latency, side by side.
#
# Starts, one at a time and each on its own 127.0.0.1 port, with the same zone and the same
# ECDSAP256SHA256 keys wherever the server takes them:
#   file      CoreDNS, file plugin only (the unsigned baseline)
#   dnssec    CoreDNS, file + the built-in dnssec plugin (the ZSK as its only key)
#   livesign  CoreDNS, file + livesign (same bin/coredns as the two above)
#   knot      knotd with mod-onlinesign (the same KSK and ZSK, imported with keymgr)
#   pdns      PowerDNS Authoritative, bind backend, live signing, NSEC3 narrow (same keys)
# and runs dnsperf against each with identical settings (server pinned to one core, dnsperf to
# the other, -c4 -T1 -q100, DO set), interleaved and repeated, for the workloads warm, flood and
# mixed, plus roll (livesign only: a ZSK switch by key timers under warm load), a CPU/alloc
# profile of livesign under flood, and the crypto bound (Go benchmark of RRSIG.Sign).
# Writes bench/results.md and prints it. See bench/README.md.
#
# Environment (defaults in brackets):
#   ROUNDS [2]            rounds; every row is the median over rounds
#   DURATION [10]         seconds of load per test (dnsperf -l)
#   SERVERS ["file dnssec livesign knot pdns"]
#   WORKLOADS ["warm flood mixed"]
#   ROLL [1]              run the roll workload (livesign)
#   PROFILE [1]           profile livesign and unsigned file under flood (CoreDNS pprof plugin)
#   MICRO [1]             run the Go micro-benchmarks of bench_test.go (MICRO_BENCHTIME [1s])
#   FLOOD_NAMES [1000000] unique random names in the flood query file
#   MIXED_QPS []          cap the mixed workload's rate (dnsperf -Q) below saturation, so its
#                         latency is the server's and not dnsperf's queue (-q 100 outstanding)
#   BASE_PORT [15350]     first port; servers use BASE_PORT..BASE_PORT+9
#   SERVER_CPU [0] CLIENT_CPU [1]   cores for the server and for dnsperf
#   INSTALL [1]           install missing tools with apt-get
#   OUT [bench/results.md]
#   OVERLOAD [1]          open-loop flood at OVERLOAD_X [5] times each signer's closed-loop flood rate
#                         while a second client asks existing names at EXISTING_QPS [2000]
#   ED25519 [1]           also run the flood workload with Ed25519 keys (rows <server>-ed25519)
#   KEEP [0]              keep the work directory (keys, configs, logs) instead of removing it
set -uo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD

ROUNDS=${ROUNDS:-2}
DURATION=${DURATION:-10}
SERVERS=${SERVERS:-file dnssec livesign knot pdns}
WORKLOADS=${WORKLOADS:-warm flood mixed}
ROLL=${ROLL:-1}
PROFILE=${PROFILE:-1}
MICRO=${MICRO:-1}
MIXED_QPS=${MIXED_QPS:-}
ED25519=${ED25519:-1}
OVERLOAD=${OVERLOAD:-1}
OVERLOAD_X=${OVERLOAD_X:-5}
EXISTING_QPS=${EXISTING_QPS:-2000}
MICRO_BENCHTIME=${MICRO_BENCHTIME:-1s}
FLOOD_NAMES=${FLOOD_NAMES:-1000000}
BASE_PORT=${BASE_PORT:-15350}
SERVER_CPU=${SERVER_CPU:-0}
CLIENT_CPU=${CLIENT_CPU:-1}
INSTALL=${INSTALL:-1}
OUT=${OUT:-bench/results.md}
KEEP=${KEEP:-0}
GO=${GO:-go}
ZONE=example.net
ROLL_AT=${ROLL_AT:-6}              # seconds into the roll run at which the ZSK switches
ROLL_DURATION=${ROLL_DURATION:-14} # seconds of warm load in a roll run

W=$(mktemp -d "${TMPDIR:-/tmp}/livesign-bench.XXXXXX")
mkdir -p "$W/logs" "$W/runs"
declare -A PIDS=()     # name -> pid of every server we started
declare -A BROKEN=()   # server -> why it cannot run
declare -A PORT=([file]=$((BASE_PORT)) [dnssec]=$((BASE_PORT + 1)) [livesign]=$((BASE_PORT + 2))
  [knot]=$((BASE_PORT + 3)) [pdns]=$((BASE_PORT + 4)) [roll]=$((BASE_PORT + 5)) [prof]=$((BASE_PORT + 6)) [fileprof]=$((BASE_PORT + 6))
  [dnssec-ed25519]=$((BASE_PORT + 8)) [livesign-ed25519]=$((BASE_PORT + 9)) [knot-ed25519]=$((BASE_PORT + 10))
  [pdns-ed25519]=$((BASE_PORT + 11)))
# ED_SERVERS: the signing servers again with Ed25519 keys, run in the flood workload only.
ED_SERVERS=
if [[ $ED25519 == 1 ]]; then
  for s in $SERVERS; do [[ $s == file ]] || ED_SERVERS="$ED_SERVERS $s-ed25519"; done
fi
PPROF_PORT=$((BASE_PORT + 7))
HZ=$(getconf CLK_TCK)

log() { printf '== %s\n' "$*" >&2; }

cleanup() {
  local name
  for name in "${!PIDS[@]}"; do stop_server "$name"; done
  if [[ $KEEP == 1 ]]; then log "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- tools -------------------------------------------------------------------------------------
SUDO=
[[ $(id -u) == 0 ]] || SUDO="sudo -n"
apt_updated=
apt_install() {
  [[ $INSTALL == 1 ]] || return 1
  if [[ -z $apt_updated ]]; then
    $SUDO apt-get update -qq >>"$W/logs/apt.log" 2>&1 || true
    apt_updated=1
  fi
  log "installing $* (apt)"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$@" >>"$W/logs/apt.log" 2>&1
}
# need CMD PKG...: CMD is on PATH, or the packages get installed.
need() {
  local cmd=$1
  shift
  command -v "$cmd" >/dev/null 2>&1 && return 0
  apt_install "$@" || true
  command -v "$cmd" >/dev/null 2>&1
}

need dnsperf dnsperf || { echo "bench: dnsperf is required (apt-get install dnsperf)" >&2; exit 1; }
need dig bind9-dnsutils || { echo "bench: dig is required (apt-get install bind9-dnsutils)" >&2; exit 1; }
need taskset util-linux || { echo "bench: taskset is required" >&2; exit 1; }
need dnssec-settime bind9-utils || true
if [[ " $SERVERS " == *" knot "* ]]; then
  need knotd knot || BROKEN[knot]="knotd not installed (apt-get install knot failed)"
  [[ -n ${BROKEN[knot]:-} ]] || need keymgr knot || BROKEN[knot]="keymgr not installed"
fi
if [[ " $SERVERS " == *" pdns "* ]]; then
  # The bind backend is Debian's pdns-backend-bind (libbindbackend.so); its DNSSEC key database is
  # SQLite (create-bind-db).
  need pdns_server pdns-server || BROKEN[pdns]="pdns_server not installed (apt-get install pdns-server failed)"
  [[ -n ${BROKEN[pdns]:-} ]] || need pdnsutil pdns-server || BROKEN[pdns]="pdnsutil not installed"
  if [[ -z ${BROKEN[pdns]:-} ]] && ! dpkg -s pdns-backend-bind >/dev/null 2>&1; then
    apt_install pdns-backend-bind || BROKEN[pdns]="pdns-backend-bind not installed (apt-get install pdns-backend-bind failed)"
  fi
fi

ncpu=$(nproc)
if ((ncpu < 2)); then
  log "only $ncpu CPU: server and dnsperf share it"
  SERVER_CPU=0 CLIENT_CPU=0
fi

# --- build -------------------------------------------------------------------------------------
log "building coredns and livesign into $W/bin"
mkdir -p "$W/bin"
$GO build -o "$W/bin/coredns" ./cmd/coredns || { echo "bench: go build ./cmd/coredns failed" >&2; exit 1; }
$GO build -o "$W/bin/livesign" ./cmd/livesign || { echo "bench: go build ./cmd/livesign failed" >&2; exit 1; }
coredns=$W/bin/coredns
livesign=$W/bin/livesign

# --- keys, zone, query files ---------------------------------------------------------------------
log "keys (livesign keygen, ECDSAP256SHA256), bundle, zone and query files in $W"
cd "$W"
$livesign keygen -zone $ZONE -ksk -dir ksk >/dev/null
$livesign keygen -zone $ZONE -zsk -dir keys >/dev/null
$livesign bundle -ksk ksk -zsk keys -zone $ZONE -out $ZONE.bundle -validity 30d >/dev/null
$livesign ds ksk/K$ZONE.+*.key >anchor.ds
kskpriv=$(ls ksk/K$ZONE.+*.private)
zskpriv=$(ls keys/K$ZONE.+*.private)
zskbase=$W/${zskpriv%.private}
# The same again with Ed25519, for the -ed25519 rows.
$livesign keygen -zone $ZONE -ksk -algorithm ED25519 -dir ksk-ed25519 >/dev/null
$livesign keygen -zone $ZONE -zsk -algorithm ED25519 -dir keys-ed25519 >/dev/null
$livesign bundle -ksk ksk-ed25519 -zsk keys-ed25519 -zone $ZONE -out $ZONE.ed25519.bundle -validity 30d >/dev/null
$livesign ds ksk-ed25519/K$ZONE.+*.key >anchor-ed25519.ds
kskpriv_ed=$(ls ksk-ed25519/K$ZONE.+*.private)
zskpriv_ed=$(ls keys-ed25519/K$ZONE.+*.private)
zskbase_ed=$W/${zskpriv_ed%.private}

{
  cat <<ZONEFILE
\$ORIGIN $ZONE.
\$TTL 300
@           IN SOA   ns1 hostmaster 2026112301 3600 600 864000 300
@           IN NS    ns1
@           IN NS    ns2
@           IN MX    10 mail
@           IN TXT   "v=spf1 -all"
ns1         IN A     127.0.0.1
ns2         IN A     127.0.0.2
www         IN A     192.0.2.10
www         IN AAAA  2001:db8::10
mail        IN A     192.0.2.25
mail        IN AAAA  2001:db8::25
alias       IN CNAME www
*.wild      IN A     192.0.2.99
*.wild      IN TXT   "wildcard"
leaf.ent    IN A     192.0.2.50
srv         IN SRV   10 5 443 www
ZONEFILE
  for i in $(seq -w 1 30); do
    printf 'host%s      IN A     192.0.2.%d\n' "$i" $((100 + 10#$i))
    printf 'host%s      IN TXT   "host %s"\n' "$i" "$i"
  done
} >db.$ZONE

# warm: a few dozen existing names and types (positive answers, a CNAME, a wildcard
# expansion, two NODATA), cycled.
{
  printf '%s\n' "www.$ZONE A" "www.$ZONE AAAA" "mail.$ZONE A" "mail.$ZONE AAAA" "$ZONE SOA" \
    "$ZONE NS" "$ZONE MX" "$ZONE TXT" "ns1.$ZONE A" "alias.$ZONE A" "a.wild.$ZONE A" \
    "b.wild.$ZONE TXT" "leaf.ent.$ZONE A" "srv.$ZONE SRV" "www.$ZONE MX" "mail.$ZONE TXT"
  for i in $(seq -w 1 30); do printf 'host%s.%s A\n' "$i" $ZONE; done
} >warm.txt

# flood: FLOOD_NAMES distinct random labels (random-subdomain attack), every one NXDOMAIN.
head -c $((FLOOD_NAMES * 8)) /dev/urandom | od -An -v -tx8 -w8 |
  awk -v z=$ZONE '{ printf "fl-%s.%s A\n", $1, z }' >flood.txt
# mixed: 90 % warm (cycled), 10 % fresh random names (prefix mx-, so their latency can be told apart).
head -c $((60000 * 8)) /dev/urandom | od -An -v -tx8 -w8 |
  awk -v z=$ZONE 'NR == FNR { warm[n++] = $0; next }
    { for (i = 0; i < 9; i++) print warm[(k++) % n]; printf "mx-%s.%s A\n", $1, z }' warm.txt - >mixed.txt
cd "$root"

# --- server configurations -----------------------------------------------------------------------
corefile() { # name port body-lines...
  local name=$1 port=$2
  shift 2
  {
    printf '%s:%s {\n    bind 127.0.0.1\n    file %s/db.%s\n' $ZONE "$port" "$W" $ZONE
    printf '    %s\n' "$@"
    printf '}\n'
  } >"$W/Corefile.$name"
}
corefile file "${PORT[file]}"
corefile dnssec "${PORT[dnssec]}" "dnssec {" "    key file $zskbase" "}"
corefile livesign "${PORT[livesign]}" "livesign {" "    keys $W/keys" "    bundle $W/$ZONE.bundle" \
  "    trust-anchor $W/anchor.ds" "}"
corefile dnssec-ed25519 "${PORT[dnssec-ed25519]}" "dnssec {" "    key file $zskbase_ed" "}"
corefile livesign-ed25519 "${PORT[livesign-ed25519]}" "livesign {" "    keys $W/keys-ed25519" \
  "    bundle $W/$ZONE.ed25519.bundle" "    trust-anchor $W/anchor-ed25519.ds" "}"
corefile fileprof "${PORT[prof]}" "pprof 127.0.0.1:$PPROF_PORT"
corefile prof "${PORT[prof]}" "pprof 127.0.0.1:$PPROF_PORT" "livesign {" "    keys $W/keys" \
  "    bundle $W/$ZONE.bundle" "    trust-anchor $W/anchor.ds" "}"

setup_knot() { # name algorithm ksk.private zsk.private
  local name=$1 alg=$2 ksk=$3 zsk=$4 d=$W/$1
  mkdir -p "$d/db"
  cat >"$d/knot.conf" <<KNOT
server:
    rundir: "$d"
    listen: 127.0.0.1@${PORT[$name]}
    udp-workers: 1
    tcp-workers: 1
    background-workers: 1
log:
  - target: stderr
    any: warning
database:
    storage: "$d/db"
template:
  - id: default
    zonefile-sync: -1
    zonefile-load: whole
    journal-content: none
policy:
  - id: bench
    algorithm: $alg
    manual: on
mod-onlinesign:
  - id: bench
    policy: bench
zone:
  - domain: $ZONE
    file: "$W/db.$ZONE"
    module: mod-onlinesign/bench
KNOT
  keymgr -c "$d/knot.conf" $ZONE import-bind "$W/$ksk" >>"$W/logs/$name-setup.log" 2>&1 &&
    keymgr -c "$d/knot.conf" $ZONE import-bind "$W/$zsk" >>"$W/logs/$name-setup.log" 2>&1 ||
    { BROKEN[$name]="keymgr import-bind failed: $(tail -1 "$W/logs/$name-setup.log")"; return 1; }
}

setup_pdns() { # name ksk.private zsk.private
  local name=$1 ksk=$2 zsk=$3 d=$W/$1
  mkdir -p "$d"
  printf 'zone "%s" { type master; file "%s/db.%s"; };\n' $ZONE "$W" $ZONE >"$d/named.conf"
  cat >"$d/pdns.conf" <<PDNS
launch=bind
bind-config=$d/named.conf
bind-dnssec-db=$d/dnssec.db
local-address=127.0.0.1
local-port=${PORT[$name]}
socket-dir=$d
daemon=no
guardian=no
write-pid=no
disable-syslog=yes
loglevel=3
receiver-threads=1
distributor-threads=1
webserver=no
api=no
PDNS
  local p="pdnsutil --config-dir=$d"
  {
    $p create-bind-db "$d/dnssec.db" &&
      $p import-zone-key $ZONE "$W/$ksk" ksk &&
      $p import-zone-key $ZONE "$W/$zsk" zsk &&
      $p set-nsec3 $ZONE '1 0 0 -' narrow
  } >>"$W/logs/$name-setup.log" 2>&1 ||
    { BROKEN[$name]="pdnsutil setup failed: $(tail -1 "$W/logs/$name-setup.log")"; return 1; }
}

[[ -z ${BROKEN[knot]:-} ]] || BROKEN[knot-ed25519]=${BROKEN[knot]}
[[ -z ${BROKEN[pdns]:-} ]] || BROKEN[pdns-ed25519]=${BROKEN[pdns]}
[[ " $SERVERS " != *" knot "* || -n ${BROKEN[knot]:-} ]] || setup_knot knot ecdsap256sha256 "$kskpriv" "$zskpriv"
[[ " $SERVERS " != *" pdns "* || -n ${BROKEN[pdns]:-} ]] || setup_pdns pdns "$kskpriv" "$zskpriv"
[[ " $ED_SERVERS " != *" knot-ed25519 "* || -n ${BROKEN[knot-ed25519]:-} ]] ||
  setup_knot knot-ed25519 ed25519 "$kskpriv_ed" "$zskpriv_ed"
[[ " $ED_SERVERS " != *" pdns-ed25519 "* || -n ${BROKEN[pdns-ed25519]:-} ]] ||
  setup_pdns pdns-ed25519 "$kskpriv_ed" "$zskpriv_ed"

# --- roll: two ZSKs whose timers switch during the run ------------------------------------------
setup_roll() {
  local d=$W/roll
  mkdir -p "$d"
  $livesign keygen -zone $ZONE -zsk -dir "$d/keys" >/dev/null
  cp "$W"/keys/* "$d/keys/"
  $livesign bundle -ksk "$W/ksk" -zsk "$d/keys" -zone $ZONE -out "$d/$ZONE.bundle" -validity 30d >/dev/null || return 1
  corefile roll "${PORT[roll]}" "livesign {" "    keys $d/keys" "    bundle $d/$ZONE.bundle" \
    "    trust-anchor $W/anchor.ds" "    dnskey-ttl 1s" "    propagation-delay 1s" "}"
}
# set_timers FILE.private publish activate [inactive] (Unix times)
set_timers() {
  local f=$1 p=$2 a=$3 i=${4:-}
  local base=${f%.private} args=()
  ts() { date -u -d "@$1" +%Y%m%d%H%M%S; }
  if command -v dnssec-settime >/dev/null 2>&1; then
    args=(-P "$(ts "$p")" -A "$(ts "$a")")
    [[ -z $i ]] || args+=(-I "$(ts "$i")")
    dnssec-settime -K "$(dirname "$f")" "${args[@]}" "$(basename "$base")" >>"$W/logs/roll.log" 2>&1 || return 1
  else # the same timers, written into the .private file the way BIND writes them
    sed -i '/^\(Publish\|Activate\|Inactive\): /d' "$f"
    printf 'Publish: %s\nActivate: %s\n' "$(ts "$p")" "$(ts "$a")" >>"$f"
    [[ -z $i ]] || printf 'Inactive: %s\n' "$(ts "$i")" >>"$f"
  fi
  chmod 600 "$f"
}

# --- servers -------------------------------------------------------------------------------------
start_server() { # name kind: starts the server pinned to SERVER_CPU, waits until it answers
  local name=$1 kind=$2 port logf=$W/logs/$1.log
  port=${PORT[$name]}
  # Something already answering on the port (a server left over, SO_REUSEPORT) would share the load.
  if dig @127.0.0.1 -p "$port" +time=1 +tries=1 +short $ZONE SOA 2>/dev/null | grep -q .; then
    echo "port $port is already answering: something else runs there (set BASE_PORT)" >>"$logf"
    return 1
  fi
  # taskset execs the server: $! is the server's own PID (a shell function here would fork a
  # subshell, and that PID would neither measure nor stop the server).
  case $kind in
  coredns) taskset -c "$SERVER_CPU" "$coredns" -conf "$W/Corefile.$name" -quiet >>"$logf" 2>&1 & ;;
  knot) taskset -c "$SERVER_CPU" knotd -c "$W/$name/knot.conf" >>"$logf" 2>&1 & ;;
  pdns) taskset -c "$SERVER_CPU" pdns_server --config-dir="$W/$name" >>"$logf" 2>&1 & ;;
  esac
  PIDS[$name]=$!
  local i
  for i in $(seq 1 50); do
    if ! kill -0 "${PIDS[$name]}" 2>/dev/null; then
      unset "PIDS[$name]"
      return 1
    fi
    dig @127.0.0.1 -p "$port" +time=1 +tries=1 +short $ZONE SOA 2>/dev/null | grep -q hostmaster && return 0
    sleep 0.2
  done
  stop_server "$name"
  return 1
}
stop_server() {
  local name=$1 pid=${PIDS[$1]:-} i
  [[ -n $pid ]] || return 0
  kill "$pid" 2>/dev/null
  for i in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  unset "PIDS[$name]"
}
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; } # utime + stime
peak_rss_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
kind_of() { case $1 in knot*) echo knot ;; pdns*) echo pdns ;; *) echo coredns ;; esac; }

# run_dnsperf port queryfile out [extra dnsperf args]: bounded by -l and by timeout.
run_dnsperf() {
  local port=$1 qf=$2 out=$3
  shift 3
  timeout -k 5 $((DURATION + ROLL_DURATION + 20)) taskset -c "$CLIENT_CPU" \
    dnsperf -s 127.0.0.1 -p "$port" -d "$qf" -c 4 -T 1 -q 100 -D -t 2 -v "$@" >"$out" 2>"$out.err"
}

# percentile P FILE: P-th percentile (ms) of the latencies (last field, seconds) of '>' lines.
percentile() { # pct file [awk filter on the name]
  local pct=$1 f=$2 filt=${3:-1}
  awk -v OFS=' ' '/^> / && ('"$filt"') { print $NF }' "$f" | sort -g |
    awk -v p="$pct" '{ a[NR] = $1 } END { if (NR == 0) { print "-"; exit }
      i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; if (i > NR) i = NR; printf "%.3f", a[i] * 1000 }'
}

RAW=$W/raw.tsv # round server workload qps avg_ms p99_ms warm_p99_ms cpu_s rss_mib lost rcodes note
printf 'round\tserver\tworkload\tqps\tavg_ms\tp99_ms\twarm_p99_ms\tcpu_s\trss_mib\tlost\trcodes\tnote\n' >"$RAW"

run_test() { # round server workload
  local r=$1 s=$2 wl=$3 qf extra=() out=$W/runs/$1-$2-$3.txt
  if [[ -n ${BROKEN[$s]:-} ]]; then
    printf '%s\t%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t%s\n' "$r" "$s" "$wl" "${BROKEN[$s]}" >>"$RAW"
    return
  fi
  case $wl in
  warm) qf=$W/warm.txt ;;
  flood) qf=$W/flood.txt extra=(-n 1) ;;
  mixed) qf=$W/mixed.txt
    [[ -z $MIXED_QPS ]] || extra=(-Q "$MIXED_QPS") ;;
  esac
  if ! start_server "$s" "$(kind_of "$s")"; then
    BROKEN[$s]="did not start: $(tail -1 "$W/logs/$s.log" 2>/dev/null | tr '\t' ' ')"
    printf '%s\t%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t%s\n' "$r" "$s" "$wl" "${BROKEN[$s]}" >>"$RAW"
    return
  fi
  local pid=${PIDS[$s]} t0 t1
  t0=$(cpu_ticks "$pid")
  run_dnsperf "${PORT[$s]}" "$qf" "$out" -l "$DURATION" "${extra[@]}"
  t1=$(cpu_ticks "$pid")
  local rss
  rss=$(peak_rss_kb "$pid")
  stop_server "$s"
  local qps avg lost p99 wp99=- note= rcodes
  qps=$(awk '/Queries per second/ { printf "%.0f", $4 }' "$out")
  avg=$(awk '/Average Latency/ { printf "%.3f", $4 * 1000 }' "$out")
  lost=$(awk '/Queries lost/ { print $3 }' "$out")
  p99=$(percentile 99 "$out")
  [[ $wl != mixed ]] || wp99=$(percentile 99 "$out" '$3 !~ /^mx-/')
  [[ -n $qps ]] || note="dnsperf failed: $(tail -1 "$out.err")"
  rcodes=$(awk '/Response codes/ { sub(/^ *Response codes: */, ""); print }' "$out")
  # Flag answers no client wants (SERVFAIL, REFUSED, ...) in the summary.
  if grep -Eq 'SERVFAIL|REFUSED|FORMERR|NOTIMP' <<<"$rcodes"; then note="${note}errors: $rcodes"; fi
  [[ ${lost:-0} == 0 ]] || note="$note lost $lost"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.2f\t%.1f\t%s\t%s\t%s\n' "$r" "$s" "$wl" "${qps:--}" "${avg:--}" \
    "$p99" "$wp99" "$(echo "$t0 $t1 $HZ" | awk '{ print ($2 - $1) / $3 }')" \
    "$(echo "$rss" | awk '{ print $1 / 1024 }')" "${lost:--}" "${rcodes:--}" "$note" >>"$RAW"
  rm -f "$out"
  log "round $r $wl $s: ${qps:-?} QPS, p99 $p99 ms"
}

# --- roll run --------------------------------------------------------------------------------------
ROLLRAW=$W/roll.tsv
printf 'round\tsteady_p99_ms\tswitch_p99_ms\tratio\tqps\tkeytag_before\tkeytag_after\tnote\n' >"$ROLLRAW"
run_roll() { # round
  local r=$1 d=$W/roll out=$W/runs/roll-$1.txt
  local old new now tswitch
  old=$(ls "$W"/keys/K$ZONE.+*.private)
  old=$d/keys/$(basename "$old")
  new=$(ls "$d"/keys/K$ZONE.+*.private | grep -v "$(basename "$old")")
  now=$(date +%s)
  tswitch=$((now + 2 + ROLL_AT)) # about ROLL_AT s into the load, after the server is up
  set_timers "$old" $((now - 86400)) $((now - 86400)) "$tswitch" &&
    set_timers "$new" $((now - 86400)) "$tswitch" ||
    { printf '%s\t-\t-\t-\t-\t-\t-\tsetting key timers failed\n' "$r" >>"$ROLLRAW"; return; }
  if ! start_server roll coredns; then
    printf '%s\t-\t-\t-\t-\t-\t-\tlivesign did not start: %s\n' "$r" "$(tail -1 "$W/logs/roll.log" | tr '\t' ' ')" >>"$ROLLRAW"
    return
  fi
  local tagq="dig @127.0.0.1 -p ${PORT[roll]} +dnssec +norec +time=1 +tries=1 www.$ZONE A"
  local before after
  before=$($tagq | awk '$4 == "RRSIG" { print $11; exit }')
  run_dnsperf "${PORT[roll]}" "$W/warm.txt" "$out" -l "$ROLL_DURATION" -S 1
  after=$($tagq | awk '$4 == "RRSIG" { print $11; exit }')
  stop_server roll
  # Bucket the per-query lines by dnsperf's per-second lines ("<unix time>: <qps>", printed at
  # the end of each interval): steady = every interval that ends before the switch except the
  # first (warm-up); sw1 = the interval in which the switch falls, sw2 = the one after it.
  awk -v ts="$tswitch" '
    /^> / { lat[n++] = $NF; next }
    /^[0-9]+\.[0-9]+: [0-9.]+$/ { k++; cnt[k] = n; ends[k] = $1 + 0; next }
    END {
      for (i = 1; i <= k; i++) {
        from = (i == 1 ? 0 : cnt[i - 1])
        label = ""
        if (ends[i] <= ts && i >= 2) label = "steady"
        else if (ends[i] > ts && !sw) { label = "sw1"; sw = i }
        else if (sw && i == sw + 1) label = "sw2"
        if (label != "") for (j = from; j < cnt[i]; j++) print label, lat[j]
      }
    }' "$out" >"$out.buckets"
  p99of() { awk -v l="$1" '$1 == l { print $2 }' "$out.buckets" | sort -g |
    awk '{ a[NR] = $1 } END { if (NR == 0) { print "-"; exit }
      i = int(NR * 0.99 + 0.999999); if (i > NR) i = NR; printf "%.3f", a[i] * 1000 }'; }
  local steady sw1 sw2 sw
  steady=$(p99of steady) sw1=$(p99of sw1) sw2=$(p99of sw2)
  sw=$(awk -v a="$sw1" -v b="$sw2" 'BEGIN { if (a == "-") print b; else if (b == "-" || a + 0 > b + 0) print a; else print b }')
  local qps
  qps=$(awk '/Queries per second/ { printf "%.0f", $4 }' "$out")
  local ratio=-
  [[ $steady == - || $sw == - ]] || ratio=$(awk -v a="$sw" -v b="$steady" 'BEGIN { printf "%.2f", a / b }')
  local note=
  [[ $before != "$after" ]] || note="the ZSK did not switch (RRSIG key tag $before before and after)"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$r" "$steady" "$sw" "$ratio" "${qps:--}" "${before:--}" "${after:--}" "$note" >>"$ROLLRAW"
  rm -f "$out" "$out.buckets"
  log "round $r roll: steady p99 $steady ms, switch p99 $sw ms, key $before -> $after"
}

# --- overload: an open-loop flood past capacity while existing names are asked -------------------
# Per signing server: the existing names alone for 2 s (baseline, and into the caches), then a
# flood of new names at OVERLOAD_X times the server's closed-loop flood rate of the same round for
# DURATION s with the existing names asked alongside at EXISTING_QPS, then the existing names
# alone for 5 s (recovery). Both clients run on CLIENT_CPU.
OVLRAW=$W/overload.tsv
printf 'round\tserver\ttarget\tsent_qps\tx_sent\tflood_ok_qps\tx_closed\texisting_pct\texisting_p99_ms\tbase_p99_ms\tafter_p99_ms\trss_mib\tnote\n' >"$OVLRAW"
# existing_run port seconds out: the existing names at EXISTING_QPS, open loop, per-query latencies.
existing_run() {
  timeout -k 5 $(($2 + 20)) taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$1" -d "$W/warm.txt" -c 1 -T 1 \
    -q 1000 -Q "$EXISTING_QPS" -D -t 1 -v -l "$2" >"$3" 2>"$3.err"
}
run_overload() { # round server
  local r=$1 s=$2 out=$W/runs/ovl-$1-$2 closed offered port=${PORT[$2]}
  ovl_row() { printf '%s\t%s\t-\t-\t-\t-\t-\t-\t-\t-\t-\t-\t%s\n' "$r" "$s" "$1" >>"$OVLRAW"; }
  [[ -z ${BROKEN[$s]:-} ]] || { ovl_row "${BROKEN[$s]}"; return; }
  closed=$(awk -F'\t' -v r="$r" -v s="$s" '$1 == r && $2 == s && $3 == "flood" { print $4 }' "$RAW")
  [[ -n $closed && $closed != - ]] || { ovl_row "no closed-loop flood rate in this round"; return; }
  offered=$((closed * OVERLOAD_X))
  start_server "$s" "$(kind_of "$s")" || { ovl_row "did not start"; return; }
  local pid=${PIDS[$s]}
  existing_run "$port" 2 "$out.base"
  existing_run "$port" "$DURATION" "$out.during" &
  local ep=$!
  # Outstanding queries: a query the server drops holds its slot for the 1 s timeout, so the
  # client may keep two seconds of the target rate outstanding; with fewer, the cap, not -Q,
  # would set the rate (20000 held a 70k target to about 30k).
  local outstanding=$((offered * 2 > 240000 ? 240000 : offered * 2))
  timeout -k 5 $((DURATION + 20)) taskset -c "$CLIENT_CPU" dnsperf -s 127.0.0.1 -p "$port" -d "$W/flood.txt" -n 1 \
    -c 4 -T 1 -q "$outstanding" -Q "$offered" -D -t 1 -l "$DURATION" >"$out.flood" 2>"$out.flood.err"
  wait "$ep"
  existing_run "$port" 5 "$out.after"
  local rss
  rss=$(peak_rss_kb "$pid")
  stop_server "$s"
  local sent ok pct p99 base after
  # What the client sent, per second: on one core it may fall short of the target.
  sent=$(awk -v d="$DURATION" '/Queries sent/ { printf "%.0f", $3 / d }' "$out.flood")
  # Flood answers that are answers (NOERROR, NXDOMAIN), per second.
  ok=$(awk -v d="$DURATION" '/Response codes/ { n = 0; for (i = 1; i <= NF; i++) if ($i ~ /^(NOERROR|NXDOMAIN)$/) n += $(i + 1)
    printf "%.0f", n / d }' "$out.flood")
  pct=$(awk '/Queries sent/ { s = $3 } /Queries completed/ { c = $3 } END { if (s > 0) printf "%.2f", 100 * c / s }' "$out.during")
  p99=$(percentile 99 "$out.during")
  base=$(percentile 99 "$out.base")
  after=$(percentile 99 "$out.after")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%.1f\t%s\n' "$r" "$s" "$offered" "${sent:--}" \
    "$(awk -v a="${sent:-0}" -v b="$closed" 'BEGIN { printf "%.2f", a / b }')" "${ok:--}" \
    "$(awk -v a="${ok:-0}" -v b="$closed" 'BEGIN { printf "%.2f", a / b }')" "${pct:--}" "$p99" "$base" "$after" \
    "$(echo "$rss" | awk '{ print $1 / 1024 }')" "" >>"$OVLRAW"
  rm -f "$out".*
  log "round $r overload $s: target $offered QPS, sent ${sent:-?}/s, flood answered ${ok:-?}/s, existing ${pct:-?}% answered, p99 $p99 ms (before $base, after $after)"
}

# --- main loop: rounds x workloads x servers, interleaved --------------------------------------------
[[ $ROLL != 1 ]] || setup_roll || { ROLL=0; log "roll setup failed"; }
log "$ROUNDS rounds x {$WORKLOADS} x {$SERVERS} (flood also {$ED_SERVERS}), ${DURATION}s each; server on CPU $SERVER_CPU, dnsperf on CPU $CLIENT_CPU"
for r in $(seq 1 "$ROUNDS"); do
  for wl in $WORKLOADS; do
    for s in $SERVERS; do run_test "$r" "$s" "$wl"; done
    [[ $wl != flood ]] || for s in $ED_SERVERS; do run_test "$r" "$s" "$wl"; done
  done
  [[ $ROLL != 1 ]] || run_roll "$r"
  if [[ $OVERLOAD == 1 && " $WORKLOADS " == *" flood "* ]]; then
    for s in $SERVERS; do [[ $s == file ]] || run_overload "$r" "$s"; done
  fi
done

# --- profile livesign (and unsigned file) under flood ----------------------------------------------
# Each under the flood workload for DURATION s, CPU profiled for DURATION-2 s from second 1. The
# breakdown table divides the CPU seconds spent in a few functions (pprof's cumulative column) by
# the queries answered during the profile: where each microsecond of a flood answer goes.
PROF_TXT=$W/profile.txt
BREAKDOWN_TXT=$W/breakdown.txt
: >"$PROF_TXT"
: >"$BREAKDOWN_TXT"
declare -A PROF_QUERIES=()
profile_flood() { # name: profiles the server of Corefile.<name> (pprof on PPROF_PORT) under flood
  local name=$1
  start_server "$name" coredns || { log "profile $name: the server did not start"; return 1; }
  log "profiling $name under flood (pprof on 127.0.0.1:$PPROF_PORT)"
  run_dnsperf "${PORT[$name]}" "$W/flood.txt" "$W/runs/$name.txt" -l "$DURATION" -n 1 &
  local dp=$!
  sleep 1
  curl -s -m $((DURATION + 5)) -o "$W/$name.cpu.pb.gz" \
    "http://127.0.0.1:$PPROF_PORT/debug/pprof/profile?seconds=$((DURATION - 2))"
  wait "$dp"
  curl -s -m 10 -o "$W/$name.allocs.pb.gz" "http://127.0.0.1:$PPROF_PORT/debug/pprof/allocs"
  stop_server "$name"
  # The cumulative listing, every function, read by cum_us.
  $GO tool pprof -top -cum -nodecount=100000 -nodefraction=0 "$coredns" "$W/$name.cpu.pb.gz" \
    >"$W/$name.cum.txt" 2>/dev/null
  PROF_QUERIES[$name]=$(awk -v s=$((DURATION - 2)) '/Queries per second/ { printf "%.0f", $4 * s }' \
    "$W/runs/$name.txt")
  [[ -s $W/$name.cpu.pb.gz && -n ${PROF_QUERIES[$name]} ]]
}
# cum_us name function...: µs per query that the profile of name spent in the functions (the sum
# of their cumulative CPU, so pass functions that do not call one another).
cum_us() { # reads $W/<name>.cum.txt, written once by profile_flood
  local name=$1
  shift
  awk -v q="${PROF_QUERIES[$name]}" -v want="$(printf '%s\n' "$@")" '
      BEGIN { n = split(want, w, "\n"); for (i = 1; i <= n; i++) if (w[i] != "") f[w[i]] = 1 }
      function secs(v) { if (v ~ /ms$/) return v / 1000; if (v ~ /us$/) return v / 1e6; return v + 0 }
      /^ *[0-9.]+(s|ms|us)? / && ($6 in f) { t += secs($4) }
      /Total samples =/ && (f["TOTAL"]) { sub(/.*Total samples = /, ""); t += secs($1) }
      END { printf "%.1f", (q > 0 ? t / q * 1e6 : 0) }' "$W/$name.cum.txt"
}
breakdown() { # prints the table rows: component | file | livesign
  local -a names=(fileprof prof)
  local -A v=()
  local n
  for n in "${names[@]}"; do
    [[ -s $W/$n.cum.txt && -n ${PROF_QUERIES[$n]:-} ]] || return 1
    v[$n,total]=$(cum_us "$n" TOTAL)
    v[$n,read]=$(cum_us "$n" 'github.com/miekg/dns.ReadFromSessionUDP')
    v[$n,backend]=$(cum_us "$n" 'github.com/coredns/coredns/plugin/file.(*Zone).Lookup')
    v[$n,crypto]=$(cum_us "$n" 'crypto/ecdsa.(*PrivateKey).Sign' 'crypto/ed25519.PrivateKey.Sign')
    v[$n,answer]=$(cum_us "$n" 'github.com/livesign/livesign.(*answer).sign')
    v[$n,pack]=$(cum_us "$n" 'github.com/miekg/dns.(*Msg).PackBuffer')
    v[$n,send]=$(cum_us "$n" 'net.(*UDPConn).WriteMsgUDP')
    v[$n,gc]=$(cum_us "$n" 'runtime.gcBgMarkWorker')
    v[$n,malloc]=$(cum_us "$n" 'runtime.mallocgc')
    v[$n,stack]=$(cum_us "$n" 'runtime.copystack')
    v[$n,other]=$(awk -v a="${v[$n,answer]}" -v c="${v[$n,crypto]}" 'BEGIN { printf "%.1f", a - c }')
    v[$n,rest]=$(awk -v t="${v[$n,total]}" -v r="${v[$n,read]}" -v b="${v[$n,backend]}" -v a="${v[$n,answer]}" \
      -v p="${v[$n,pack]}" -v s="${v[$n,send]}" -v g="${v[$n,gc]}" \
      'BEGIN { x = t - r - b - a - p - s - g; printf "%.1f", x < 0 ? 0 : x }')
  done
  row() { printf '| %s | %s | %s |\n' "$1" "${v[fileprof,$2]}" "${v[prof,$2]}"; }
  row "server CPU per answer" total
  row "read the query (\`dns.ReadFromSessionUDP\`)" read
  row "backend lookup (\`file.Zone.Lookup\`)" backend
  row "the signature (\`crypto/ecdsa\` Sign)" crypto
  row "livesign's answer besides the signature: NSEC, gate, RRSIG bookkeeping (\`answer.sign\` − signature)" other
  row "pack the reply (\`Msg.PackBuffer\`)" pack
  row "send the reply (\`UDPConn.WriteMsgUDP\`, incl. the kernel waking the client)" send
  row "GC marking in the background (\`gcBgMarkWorker\`)" gc
  row "rest: dispatch, plugin chain, scheduling, queue" rest
  row "of the above: allocation (\`mallocgc\`)" malloc
  row "of the above: stack growth (\`copystack\`)" stack
  printf '| queries in the profile | %s | %s |\n' "${PROF_QUERIES[fileprof]}" "${PROF_QUERIES[prof]}"
}
if [[ $PROFILE == 1 ]]; then
  profile_flood fileprof || true
  if profile_flood prof; then
    {
      echo "CPU (flood, $((DURATION - 2)) s):"
      $GO tool pprof -top -nodecount=25 "$coredns" "$W/prof.cpu.pb.gz" 2>/dev/null | sed -n '/^Showing\|flat%/,$p'
      echo
      echo "CPU, cumulative (livesign and the paths it calls):"
      $GO tool pprof -top -cum -nodecount=30 "$coredns" "$W/prof.cpu.pb.gz" 2>/dev/null | sed -n '/flat%/,$p'
      echo
      echo "Allocations since start (alloc_space):"
      $GO tool pprof -top -sample_index=alloc_space -nodecount=20 "$coredns" "$W/prof.allocs.pb.gz" 2>/dev/null | sed -n '/^Showing\|flat%/,$p'
      echo
      echo "Allocations since start (alloc_objects):"
      $GO tool pprof -top -sample_index=alloc_objects -nodecount=20 "$coredns" "$W/prof.allocs.pb.gz" 2>/dev/null | sed -n '/^Showing\|flat%/,$p'
    } >"$PROF_TXT"
    breakdown >"$BREAKDOWN_TXT" || : >"$BREAKDOWN_TXT"
  fi
  [[ $KEEP != 1 ]] || cp "$W"/*.pb.gz "$W/logs/" 2>/dev/null
fi

# --- crypto bound --------------------------------------------------------------------------------------
log "crypto bound: go test -bench RRSIG.Sign ECDSAP256SHA256 on CPU $SERVER_CPU"
sigs_per_s=-
if $GO test -c -o "$W/cryptobound.test" ./bench/cryptobound >"$W/logs/cryptobound.log" 2>&1; then
  taskset -c "$SERVER_CPU" "$W/cryptobound.test" -test.run '^$' -test.bench 'RRSIGSignECDSAP256$' \
    -test.benchtime 2s -test.cpu 1 -test.benchmem >>"$W/logs/cryptobound.log" 2>&1
  sigs_per_s=$(awk '/^BenchmarkRRSIGSignECDSAP256\/rfc6979/ { printf "%.0f", 1e9 / $3 }' "$W/logs/cryptobound.log")
  hedged_per_s=$(awk '/^BenchmarkRRSIGSignECDSAP256\/hedged/ { printf "%.0f", 1e9 / $3 }' "$W/logs/cryptobound.log")
fi
[[ -n $sigs_per_s ]] || sigs_per_s=-
[[ -n ${hedged_per_s:-} ]] || hedged_per_s=-

# --- Go micro-benchmarks (bench_test.go) -------------------------------------------------------------
MICRO_TXT=$W/micro.txt
: >"$MICRO_TXT"
if [[ $MICRO == 1 ]]; then
  log "Go micro-benchmarks (bench_test.go) on CPU $SERVER_CPU"
  if $GO test -c -o "$W/livesign.test" . >"$W/logs/micro.log" 2>&1; then
    taskset -c "$SERVER_CPU" "$W/livesign.test" -test.run '^$' -test.bench . -test.benchtime "$MICRO_BENCHTIME" \
      -test.cpu 1 -test.benchmem 2>&1 | grep -E '^(Benchmark|goos|goarch|cpu|PASS|FAIL|ok)' >"$MICRO_TXT"
  else
    { echo "go test -c . failed:"; tail -5 "$W/logs/micro.log"; } >"$MICRO_TXT"
  fi
fi

# --- report ----------------------------------------------------------------------------------------------
report() {
  echo "# make bench results"
  echo
  echo "$(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)),"
  echo "$(uname -r), $($GO version | awk '{ print $3 }'), $(dnsperf -h 2>&1 | awk '/^Version/ { print "dnsperf " $2 }'),"
  echo "knot $(knotd -V 2>/dev/null | awk '{ print $NF }'), pdns $(dpkg-query -W -f '${Version}' pdns-server 2>/dev/null)."
  echo "$ROUNDS rounds, ${DURATION} s per test, medians over rounds; each server pinned to CPU $SERVER_CPU (one worker),"
  echo "dnsperf on CPU $CLIENT_CPU: \`dnsperf -c 4 -T 1 -q 100 -D -l $DURATION\`, ECDSAP256SHA256 keys"
  echo "(Ed25519 in the -ed25519 rows, flood only), the same KSK and ZSK for every signing server. Load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)."
  echo
  echo "× unsigned = the row's ratio to CoreDNS \`file\` (unsigned) in the same round and workload, median"
  echo "over rounds. p99 from dnsperf -v per-query latencies. warm p99 = p99 of the warm (not mx-)"
  echo "queries in the mixed workload. CPU = server CPU seconds (utime+stime from /proc) during the load."
  echo "Peak RSS = VmHWM of the server process (fresh process per test)."
  echo
  echo "| workload | server | QPS | × unsigned | avg ms | p99 ms | p99 × unsigned | warm p99 ms | CPU s | µs CPU/query | peak RSS MiB | notes |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
  awk -F'\t' -v servers="$SERVERS $ED_SERVERS" -v workloads="$WORKLOADS" -v dur="$DURATION" -v bound="$sigs_per_s" '
    function median(list,   a, n, i, j, t) {
      n = split(list, a, " "); if (n == 0) return ""
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
    function add(k, v) { if (v != "-" && v != "") vals[k] = vals[k] " " v }
    NR == 1 { next }
    { r = $1; s = $2; w = $3
      qps[r, s, w] = $4; p99[r, s, w] = $6
      add(s SUBSEP w SUBSEP "qps", $4); add(s SUBSEP w SUBSEP "avg", $5); add(s SUBSEP w SUBSEP "p99", $6)
      add(s SUBSEP w SUBSEP "wp99", $7); add(s SUBSEP w SUBSEP "cpu", $8); add(s SUBSEP w SUBSEP "rss", $9)
      if ($4 != "-" && $8 != "-" && $4 > 0) add(s SUBSEP w SUBSEP "cpq", $8 * 1e6 / ($4 * dur))
      if ($12 != "" && $12 != "-") notes[s, w] = $12
      rounds[r] = 1 }
    END {
      ns = split(servers, S, " "); nw = split(workloads, Wl, " ")
      for (r in rounds) for (i = 1; i <= ns; i++) for (j = 1; j <= nw; j++) {
        s = S[i]; w = Wl[j]; b = qps[r, "file", w]; bp = p99[r, "file", w]
        if (qps[r, s, w] != "-" && qps[r, s, w] != "" && b > 0) add(s SUBSEP w SUBSEP "ratio", qps[r, s, w] / b)
        if (p99[r, s, w] != "-" && p99[r, s, w] != "" && bp > 0) add(s SUBSEP w SUBSEP "pratio", p99[r, s, w] / bp)
      }
      # The plugin bound: what a server that adds exactly one signature to unsigned CoreDNS
      # would reach, 1 / (unsigned file CPU per flood query + one signature).
      fcpq = median(vals["file" SUBSEP "flood" SUBSEP "cpq"])
      pbound = (fcpq != "" && bound != "-" && bound > 0) ? 1e6 / (fcpq + 1e6 / bound) : 0
      for (i = 1; i <= ns; i++) if (S[i] != "file" && S[i] != "livesign" && S[i] !~ /-ed25519$/) {
        q = median(vals[S[i] SUBSEP "flood" SUBSEP "qps"])
        if (q != "" && q + 0 > best + 0) { best = q; bestName = S[i] }
      }
      for (j = 1; j <= nw; j++) for (i = 1; i <= ns; i++) {
        s = S[i]; w = Wl[j]; k = s SUBSEP w SUBSEP
        ed = s ~ /-ed25519$/
        if (ed && w != "flood") continue
        q = median(vals[k "qps"])
        note = notes[s, w]
        if (ed && q != "") {
          e = median(vals[substr(s, 1, length(s) - 8) SUBSEP w SUBSEP "qps"])
          if (e != "") note = sprintf("%.2f× its P-256 row%s", q / e, note == "" ? "" : "; " note)
        }
        if (w == "flood" && s != "file" && !ed && pbound > 0 && q != "")
          note = sprintf("%.2f× plugin bound%s", q / pbound, note == "" ? "" : "; " note)
        if (w == "flood" && s != "file" && !ed && bound != "-" && q != "")
          note = sprintf("%.0f%% of crypto bound%s", 100 * q / bound, note == "" ? "" : "; " note)
        printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", w, s,
          q == "" ? "-" : sprintf("%.0f", q),
          vals[k "ratio"] == "" ? "-" : sprintf("%.2f", median(vals[k "ratio"])),
          vals[k "avg"] == "" ? "-" : sprintf("%.3f", median(vals[k "avg"])),
          vals[k "p99"] == "" ? "-" : sprintf("%.3f", median(vals[k "p99"])),
          vals[k "pratio"] == "" ? "-" : sprintf("%.2f", median(vals[k "pratio"])),
          vals[k "wp99"] == "" ? "-" : sprintf("%.3f", median(vals[k "wp99"])),
          vals[k "cpu"] == "" ? "-" : sprintf("%.2f", median(vals[k "cpu"])),
          vals[k "cpq"] == "" ? "-" : sprintf("%.1f", median(vals[k "cpq"])),
          vals[k "rss"] == "" ? "-" : sprintf("%.1f", median(vals[k "rss"])),
          note
      }
      if (pbound > 0) {
        printf "\nPlugin bound (flood): 1 / (%.1f µs unsigned `file` CPU per flood query + %.1f µs per", fcpq, 1e6 / bound
        printf " signature) = **%.0f QPS**, 0.8× = %.0f.", pbound, 0.8 * pbound
        if (best > 0) printf " Best other signer: %s, %.0f QPS (2× = %.0f).", bestName, best, 2 * best
        lq = median(vals["livesign" SUBSEP "flood" SUBSEP "qps"])
        if (best > 0 && lq != "") printf " livesign: %.0f QPS, %.2f× the best other, %.2f× the plugin bound.", lq, lq / best, lq / pbound
        printf "\n"
      }
    }' "$RAW"
  echo
  echo "## Crypto bound"
  echo
  if [[ $sigs_per_s != - ]]; then
    echo "\`go test -bench RRSIGSignECDSAP256 ./bench/cryptobound\` (miekg/dns RRSIG.Sign over a compact NSEC,"
    echo "one core, CPU $SERVER_CPU): **$sigs_per_s signatures/s/core** with the deterministic (RFC 6979) nonces"
    echo "livesign signs with, $hedged_per_s with crypto/ecdsa's hedged default (CoreDNS \`dnssec\`). A flood"
    echo "answer needs at least one fresh signature (livesign: the NSEC at the name, the SOA RRSIG is"
    echo "cached), so the best flood QPS a server pinned to one core could reach on this machine is"
    echo "**$sigs_per_s QPS** (half that at two fresh signatures per answer: Knot signs SOA and NSEC each"
    echo "time, PowerDNS NSEC3 narrow two NSEC3)."
  else
    echo "not measured: \`go test -c ./bench/cryptobound\` failed (see the log with KEEP=1)."
  fi
  if [[ $OVERLOAD == 1 ]]; then
    echo
    echo "## Overload (open loop: a flood of new names at a target of ${OVERLOAD_X}× each server's closed-loop flood rate, existing names at $EXISTING_QPS QPS alongside)"
    echo
    echo "Medians over rounds. offered = the flood queries the client actually sent per second, and"
    echo "over the server's closed-loop flood QPS (one dnsperf core may fall short of the target);"
    echo "flood answered = NOERROR or NXDOMAIN replies per second, × closed = over the closed-loop"
    echo "flood QPS; existing = the warm names asked during the flood: share answered within 1 s and"
    echo "p99; before/after = p99 of the existing names alone for 2 s before and 5 s after the flood."
    echo "Both clients on CPU $CLIENT_CPU."
    echo
    echo "| server | offered QPS | offered × closed | flood answered/s | × closed | existing answered % | existing p99 ms | p99 before ms | p99 after ms | peak RSS MiB | notes |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    awk -F'\t' -v servers="$SERVERS" '
      function median(list,   a, n, i, j, t) {
        n = split(list, a, " "); if (n == 0) return "-"
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
        return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2 }
      NR == 1 { next }
      { for (c = 4; c <= 12; c++) if ($c != "-" && $c != "") v[$2, c] = v[$2, c] " " $c
        if ($13 != "") note[$2] = $13 }
      END { n = split(servers, S, " ")
        for (i = 1; i <= n; i++) { s = S[i]; if (s == "file") continue
          printf "| %s |", s
          split("%.0f %.2f %.0f %.2f %.1f %.1f %.3f %.3f %.1f", F, " ")
          for (c = 4; c <= 12; c++) { m = median(v[s, c]); printf " %s |", m == "-" ? m : sprintf(F[c - 3], m) }
          printf " %s |\n", note[s] } }' "$OVLRAW"
  fi
  if [[ $ROLL == 1 ]]; then
    echo
    echo "## Roll (livesign, ZSK switch by key timers ${ROLL_AT}s into a ${ROLL_DURATION}s warm run, dnskey-ttl 1s, propagation-delay 1s)"
    echo
    echo "| round | steady p99 ms | p99 ms in the second after the switch | ratio | QPS | RRSIG key tag before | after | notes |"
    echo "|---|---:|---:|---:|---:|---:|---:|---|"
    awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8 }' "$ROLLRAW"
  fi
  echo
  echo "## Per-round rows"
  echo
  echo "| round | server | workload | QPS | avg ms | p99 ms | warm p99 ms | CPU s | peak RSS MiB | lost | response codes | notes |"
  echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|"
  awk -F'\t' 'NR > 1 { printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12 }' "$RAW"
  if [[ -s $MICRO_TXT ]]; then
    echo
    echo "## Go micro-benchmarks (\`bench_test.go\`, one core, benchtime $MICRO_BENCHTIME)"
    echo
    echo '```'
    cat "$MICRO_TXT"
    echo '```'
  fi
  if [[ -s $BREAKDOWN_TXT ]]; then
    echo
    echo "## Where a flood answer's CPU goes (µs per answer, from the profiles under flood)"
    echo
    echo "Cumulative CPU of each function over the answers in the profile; the rows above \"rest\""
    echo "do not overlap, the last two are parts of them. Both servers run closed-loop; the"
    echo "unsigned one answers several times as fast, so its client rarely sleeps and sending costs less."
    echo
    echo "| component | file (unsigned) | livesign |"
    echo "|---|---:|---:|"
    cat "$BREAKDOWN_TXT"
  fi
  if [[ -s $PROF_TXT ]]; then
    echo
    echo "## Profile: livesign under flood (CoreDNS pprof plugin, \`go tool pprof -top\`)"
    echo
    echo '```'
    cat "$PROF_TXT"
    echo '```'
  fi
}
report >"$W/results.md"
mkdir -p "$(dirname "$OUT")"
cp "$W/results.md" "$OUT"
cat "$OUT"
log "written to $OUT"
