#!/usr/bin/env bash
# Bring up the PC/SC stack (pcscd + vsmartcard's vpcd driver) on Debian, without systemd.
# Facts and traps: shared/spec/pcsc-vpcd.md §1.
#
#   scripts/pcsc-stack.sh install   apt-get the packages (fast no-op when already installed)
#   scripts/pcsc-stack.sh install-packages PKG...   apt-get the given packages, when missing
#   scripts/pcsc-stack.sh start [--readers N]   start pcscd detached with N vpcd readers (default
#                                   2, at most 16) and wait until every one is listed; a running pcscd
#                                   of the project's with at least N readers is kept as it is
#   scripts/pcsc-stack.sh stop      stop pcscd and remove its stale socket/pid files
#   scripts/pcsc-stack.sh restart [--readers N]   stop, then start
#   scripts/pcsc-stack.sh status    exit 0 healthy, 1 running but unhealthy, 3 not running
#   scripts/pcsc-stack.sh readers   one line per vpcd reader: index, TCP port, PC/SC reader name
#
# Reader K (`mynacard serve --reader K`) listens on TCP 35963+K. Readers 0 and 1 are
# `Virtual PCD 00 00` / `00 01` on 35963 / 35964, as Debian configures them; reader K >= 2 is
# `Virtual PCD E 00 0S` with E = K div 2, S = K mod 2 (`Virtual PCD 1 00 00` is reader 2). vpcd
# serves two readers per reader.conf entry, so --readers N is rounded up to an even number.
#
# Loopback only: vpcd binds its ports to every interface (0.0.0.0), so anyone on the network could
# plug a card into this machine's PC/SC. pcscd is started with scripts/vpcd-loopback.c (built here
# into PCSC_LOG_DIR) in LD_PRELOAD, which turns that wildcard bind into 127.0.0.1; `start` checks
# /proc/net/tcp and refuses to report ready otherwise. pcscd reads the project's own reader.conf.d
# (in PCSC_LOG_DIR, `pcscd --config`); /etc/reader.conf.d is left as Debian ships it.
#
# Environment: PCSC_LOG_DIR (default /tmp/mynacard-pcscd, made mode 0700: the log (0600), the
# reader configuration, the driver copies and the shim), PCSC_START_TIMEOUT (seconds, default 15),
# PYTHON (an interpreter with pyscard, used to list readers; default: the repo's .venv, then
# python3), CC (the C compiler for the shim, default cc),
# PCSC_DEBUG=1 (pcscd --debug --apdu, OFF by default): pcscd then logs EVERY APDU in clear, the
# PINs in VERIFY and CHANGE REFERENCE DATA included. Only for debugging TEST cards; never with a
# real card's PIN. A `start` without it restarts a debugging pcscd without debugging.
#
# Not root: commands go through sudo. Without a terminal on stdin, `sudo -n` is used, so a sudo
# that wants a password fails at once with a message instead of hanging.
set -euo pipefail

readonly PACKAGES=(pcscd vsmartcard-vpcd libpcsclite-dev opensc pcsc-tools swig)
readonly RUN_DIR=/run/pcscd
readonly SOCKET="$RUN_DIR/pcscd.comm"
readonly PIDFILE="$RUN_DIR/pcscd.pid"
readonly VPCD_PORT=35963 # reader `Virtual PCD 00 00`; reader K listens on VPCD_PORT + K
readonly VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
readonly MAX_READERS=16 # pcsc-lite's PCSCLITE_MAX_READERS_CONTEXTS
LOG_DIR="${PCSC_LOG_DIR:-/tmp/mynacard-pcscd}"
LOG_FILE="$LOG_DIR/pcscd.log"
CONF_DIR="$LOG_DIR/reader.conf.d"
DRIVER_DIR="$LOG_DIR/drivers"
SHIM="$LOG_DIR/vpcd-loopback.so"
STATE_FILE="$LOG_DIR/stack.state" # PID= READERS= DEBUG= of the pcscd this script started
STATE_PID="" STATE_READERS="" STATE_DEBUG=""
START_TIMEOUT="${PCSC_START_TIMEOUT:-15}"
SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# Decided once, before any `</dev/null`: may sudo ask for a password?
STDIN_TTY=0
[[ -t 0 ]] && STDIN_TTY=1

say() { printf 'pcsc-stack: %s\n' "$*"; }
die() {
    printf 'pcsc-stack: error: %s\n' "$*" >&2
    exit 1
}

# Fail now, with a message, when root cannot be had without a password prompt nobody can answer.
check_root() {
    if [[ $EUID -eq 0 ]]; then
        return 0
    fi
    command -v sudo >/dev/null 2>&1 || die "needs root (or sudo) to run: $*"
    if [[ $STDIN_TTY -eq 0 ]] && ! sudo -n true 2>/dev/null; then
        die "needs root to run: $*; sudo wants a password and stdin is not a terminal" \
            "(run as root, from a terminal, or with passwordless sudo)"
    fi
}

# Run as root, through sudo when a developer runs the script as a user.
as_root() {
    check_root "$@"
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif [[ $STDIN_TTY -eq 1 ]]; then
        sudo "$@"
    else
        sudo -n "$@"
    fi
}

# --- processes -----------------------------------------------------------------------------------

# True when PID is a pcscd that is alive. A zombie keeps its pid (so pcscd would refuse to start
# over its files) but is dead for us (pcsc-vpcd.md §1).
is_live_pcscd() {
    local pid=$1 stat state
    [[ $pid =~ ^[0-9]+$ ]] || return 1
    [[ -r /proc/$pid/stat ]] || return 1
    [[ "$(cat "/proc/$pid/comm" 2>/dev/null || true)" == pcscd ]] || return 1
    stat="$(cat "/proc/$pid/stat" 2>/dev/null)" || return 1
    state="${stat##*) }"
    state="${state%% *}"
    [[ $state != Z && $state != X ]]
}

# The pid in pcscd's pid file (its contents end with a NUL byte), or nothing.
pidfile_pid() {
    [[ -r $PIDFILE ]] || return 0
    tr -cd '0-9' <"$PIDFILE" || true
}

# Print the pid of the live pcscd, if any (one pcscd per machine).
find_pcscd() {
    local pid comm_file
    pid="$(pidfile_pid)"
    if [[ -n $pid ]] && is_live_pcscd "$pid"; then
        printf '%s\n' "$pid"
        return 0
    fi
    for comm_file in /proc/[0-9]*/comm; do
        pid="${comm_file#/proc/}"
        pid="${pid%/comm}"
        if is_live_pcscd "$pid"; then
            printf '%s\n' "$pid"
            return 0
        fi
    done 2>/dev/null
    return 0
}

# --- readiness (never connect to 35963: vpcd would take the probe for a card) ------------------

# Addresses (hex, as /proc/net/tcp{,6} write them) that listen on PORT, one a line.
listen_addresses() {
    local hex
    hex="$(printf '%04X' "$1")"
    awk -v port="$hex" '
        FNR > 1 && $4 == "0A" {
            n = split($2, part, ":")
            if (part[n] == port) print part[1]
        }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# True when PORT is in LISTEN state (on any address).
port_listening() {
    [[ -n "$(listen_addresses "$1")" ]]
}

# True when PORT listens, and on loopback only (127.0.0.1 or ::1; /proc writes them byte-swapped).
port_loopback_only() {
    local addresses address
    addresses="$(listen_addresses "$1")"
    [[ -n $addresses ]] || return 1
    while read -r address; do
        case "$address" in
        0100007F | 00000000000000000000000001000000) ;;
        *) return 1 ;;
        esac
    done <<<"$addresses"
}

# The PC/SC name of vpcd reader K. Entry 0 is Debian's `Virtual PCD` (readers `00 00`, `00 01`);
# entry E > 0 is named `Virtual PCD E`: pcscd numbers equal names only for one shared driver
# file, and each entry needs its own copy (see write_reader_conf).
reader_name() {
    if (($1 < 2)); then
        printf 'Virtual PCD 00 %02X' "$1"
    else
        printf 'Virtual PCD %d 00 %02X' $(($1 / 2)) $(($1 % 2))
    fi
}

python_for_readers() {
    if [[ -n ${PYTHON:-} ]]; then
        printf '%s\n' "$PYTHON"
    elif [[ -x $SCRIPT_DIR/../.venv/bin/python ]]; then
        printf '%s\n' "$SCRIPT_DIR/../.venv/bin/python"
    else
        printf '%s\n' python3
    fi
}

# Print the PC/SC reader names, one a line (SCardListReaders through pcscd's socket only).
list_readers() {
    local py
    py="$(python_for_readers)"
    if timeout 5 "$py" -c 'import smartcard' >/dev/null 2>&1; then
        timeout 5 "$py" -c '
from smartcard.System import readers
for r in readers():
    print(r)' 2>/dev/null && return 0
    fi
    if command -v opensc-tool >/dev/null 2>&1; then
        # Lines: "Nr.  Card  Features  Name"; keep the name column.
        timeout 5 opensc-tool --list-readers 2>/dev/null |
            sed -n 's/^[0-9][0-9]*[[:space:]][[:space:]]*[A-Za-z?]*[[:space:]][[:space:]]*//p' &&
            return 0
    fi
    if command -v pcsc_scan >/dev/null 2>&1; then
        timeout 5 pcsc_scan -r 2>/dev/null | sed -n 's/^[0-9][0-9]*: //p' && return 0
    fi
    return 1
}

# The configuration the running pcscd was started with by this script: sets STATE_PID,
# STATE_READERS, STATE_DEBUG (empty when there is no state file).
read_state() {
    STATE_PID="" STATE_READERS="" STATE_DEBUG=""
    [[ -r $STATE_FILE ]] || return 0
    local key value
    while IFS='=' read -r key value; do
        case "$key" in
        PID) STATE_PID="$value" ;;
        READERS) STATE_READERS="$value" ;;
        DEBUG) STATE_DEBUG="$value" ;;
        esac
    done <"$STATE_FILE"
}

# Set UNHEALTHY to the first thing missing; true when N readers are ready (§1 "Readiness").
UNHEALTHY=""
healthy() {
    local count=$1 pid k listed
    pid="$(find_pcscd)"
    UNHEALTHY=""
    if [[ -z $pid ]]; then
        UNHEALTHY="no live pcscd process"
        return 1
    fi
    if [[ ! -S $SOCKET ]]; then
        UNHEALTHY="pcscd (pid $pid) has no socket $SOCKET yet"
        return 1
    fi
    for ((k = 0; k < count; k++)); do
        if ! port_listening $((VPCD_PORT + k)); then
            UNHEALTHY="nothing listens on vpcd's port $((VPCD_PORT + k)) (reader $k)"
            return 1
        fi
    done
    listed="$(list_readers || true)"
    for ((k = 0; k < count; k++)); do
        if ! grep -qxF "$(reader_name "$k")" <<<"$listed"; then
            UNHEALTHY="reader '$(reader_name "$k")' not listed by pcscd"
            return 1
        fi
    done
    return 0
}

# True when every one of the first COUNT vpcd ports listens on loopback only; else names one.
EXPOSED=""
loopback_only() {
    local count=$1 k
    EXPOSED=""
    for ((k = 0; k < count; k++)); do
        if ! port_loopback_only $((VPCD_PORT + k)); then
            EXPOSED="port $((VPCD_PORT + k)) listens on $(listen_addresses $((VPCD_PORT + k)) | tr '\n' ' ')"
            return 1
        fi
    done
}

log_tail() {
    if [[ -r $LOG_FILE ]]; then
        printf -- '--- last lines of %s ---\n' "$LOG_FILE" >&2
        tail -n 30 "$LOG_FILE" >&2 || true
    fi
}

clean_stale_files() {
    if [[ -e $SOCKET || -e $PIDFILE ]]; then
        as_root rm -f "$SOCKET" "$PIDFILE"
        say "removed stale $SOCKET / $PIDFILE"
    fi
}

# --- subcommands ---------------------------------------------------------------------------------

# apt-get install those of the given packages that are not installed; a fast no-op otherwise.
install_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if [[ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)" != installed ]]; then
            missing+=("$pkg")
        fi
    done
    if [[ ${#missing[@]} -eq 0 ]]; then
        say "packages already installed: $*"
        return 0
    fi
    check_root apt-get install "${missing[@]}"
    say "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # `apt-get update` only when there are no package lists, or when the install fails on stale ones.
    if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
        as_root apt-get update -q
    fi
    # --no-install-recommends: 14 packages instead of 34, no GTK (pcsc-vpcd.md §1).
    if ! as_root apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null; then
        as_root apt-get update -q
        as_root apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
    fi
}

# Parse `--readers N` (also `--readers=N`); sets READERS, rounded up to an even number.
parse_readers() {
    READERS=2
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --readers)
            [[ $# -ge 2 ]] || die "--readers needs a number"
            READERS="$2"
            shift 2
            ;;
        --readers=*)
            READERS="${1#--readers=}"
            shift
            ;;
        *) die "unknown option '$1' (start|restart take --readers N)" ;;
        esac
    done
    [[ $READERS =~ ^[0-9]+$ ]] && ((READERS >= 1 && READERS <= MAX_READERS)) ||
        die "--readers must be a number from 1 to $MAX_READERS, not '$READERS'"
    READERS=$(((READERS + 1) / 2 * 2))
}

# Build the loopback shim when it is missing or older than its source.
build_shim() {
    local source="$SCRIPT_DIR/vpcd-loopback.c" compiler="${CC:-cc}"
    [[ -r $source ]] || die "missing $source"
    if [[ -e $SHIM && ! $source -nt $SHIM ]]; then
        return 0
    fi
    command -v "$compiler" >/dev/null 2>&1 ||
        die "no C compiler ($compiler) to build the loopback shim: run scripts/setup.sh"
    "$compiler" -shared -fPIC -O2 -Wall -Werror -o "$SHIM.tmp" "$source" -ldl ||
        die "could not build $SHIM from $source"
    mv -f "$SHIM.tmp" "$SHIM"
}

# The project's reader.conf.d: one vpcd entry per two readers. Each entry loads its own copy of the
# driver: vpcd keeps its sockets in static variables indexed by slot, so two entries sharing one
# loaded library would share (and overwrite) each other's connections.
write_reader_conf() {
    local count=$1 entries i port library name
    entries=$((count / 2))
    rm -rf "$CONF_DIR" "$DRIVER_DIR"
    mkdir -p "$CONF_DIR" "$DRIVER_DIR"
    {
        printf '# Written by scripts/pcsc-stack.sh start --readers %s; loaded with pcscd --config.\n' "$count"
        for ((i = 0; i < entries; i++)); do
            port=$((VPCD_PORT + 2 * i))
            if ((i == 0)); then
                library="$VPCD_DRIVER"
            else
                library="$DRIVER_DIR/libifdvpcd-$i.so"
                cp "$(readlink -f "$VPCD_DRIVER")" "$library"
            fi
            name="Virtual PCD"
            ((i == 0)) || name="Virtual PCD $i"
            printf '\nFRIENDLYNAME "%s"\nDEVICENAME   /dev/null:0x%04X\n' "$name" "$port"
            printf 'LIBPATH      %s\nCHANNELID    0x%04X\n' "$library" "$port"
        done
    } >"$CONF_DIR/vpcd"
}

# Run a command with no file descriptor beyond 0-2. pcscd lives on after this script: it must not
# inherit one, above all the descriptor of `flock /tmp/mynacard-pcsc.lock` (it would hold the
# machine-wide lock for as long as it runs).
detached() {
    local fd
    for fd in /proc/$BASHPID/fd/*; do
        fd="${fd##*/}"
        if [[ $fd =~ ^[0-9]+$ ]] && ((fd > 2)); then
            eval "exec $fd>&-" 2>/dev/null || true
        fi
    done
    "$@"
}

cmd_start() {
    local pid deadline want_debug=0 k reason=""
    parse_readers "$@"
    [[ ${PCSC_DEBUG:-0} == 1 ]] && want_debug=1
    command -v pcscd >/dev/null 2>&1 || die "pcscd is not installed: run '$0 install'"
    [[ -e $VPCD_DRIVER ]] || die "vpcd driver $VPCD_DRIVER missing: run '$0 install'"

    read_state
    pid="$(find_pcscd)"
    if [[ -n $pid ]]; then
        if [[ $STATE_PID != "$pid" ]]; then
            reason="it was not started by this script (Debian's configuration: vpcd on every interface)"
        elif ((STATE_READERS < READERS)); then
            reason="it has $STATE_READERS readers, $READERS are asked for"
        elif [[ $STATE_DEBUG != "$want_debug" ]]; then
            reason="PCSC_DEBUG=$want_debug asked, it runs with $STATE_DEBUG"
        fi
        if [[ -n $reason ]]; then
            say "restarting pcscd (pid $pid): $reason"
            cmd_stop
            pid=""
        else
            READERS=$STATE_READERS # keep what runs: other users may need its extra readers
        fi
    fi
    if [[ -z $pid ]]; then
        # A killed pcscd leaves its socket and pid file, which block a new one (§1).
        clean_stale_files
        for ((k = 0; k < READERS; k++)); do
            if port_listening $((VPCD_PORT + k)); then
                # pcscd would start without that vpcd reader and only log "Virtual PCD init failed".
                die "port $((VPCD_PORT + k)) is already in use by another program;" \
                    "vpcd cannot listen on it"
            fi
        done
        # The log may hold APDUs (PCSC_DEBUG=1): private to its owner.
        # shellcheck disable=SC2174 # -m for the log directory itself is what is meant
        mkdir -p -m 0700 "$LOG_DIR"
        [[ -O $LOG_DIR ]] || die "log directory $LOG_DIR belongs to another user; set PCSC_LOG_DIR"
        chmod 0700 "$LOG_DIR"
        (umask 077 && : >>"$LOG_FILE")
        chmod 0600 "$LOG_FILE"
        rm -f "$STATE_FILE"
        build_shim
        write_reader_conf "$READERS"
        # Any sudo refusal or password prompt now, in the foreground, not in the background job.
        check_root setsid pcscd
        as_root true
        local args=(--foreground --config "$CONF_DIR")
        if [[ $want_debug == 1 ]]; then
            args+=(--debug --apdu)
            say "PCSC_DEBUG=1: pcscd logs every APDU, PINs included, in $LOG_FILE"
        fi
        # No --auto-exit: it quits after 60 s idle (§1). `env` sets LD_PRELOAD after sudo, which
        # would drop it from the environment it passes on.
        printf '=== %s pcscd %s (LD_PRELOAD=%s)\n' "$(date -Is)" "${args[*]}" "$SHIM" >>"$LOG_FILE"
        if [[ $EUID -eq 0 ]]; then
            detached env LD_PRELOAD="$SHIM" setsid pcscd "${args[@]}" </dev/null >>"$LOG_FILE" 2>&1 &
        else
            detached as_root env LD_PRELOAD="$SHIM" setsid pcscd "${args[@]}" </dev/null \
                >>"$LOG_FILE" 2>&1 &
        fi
        say "starting pcscd with $READERS vpcd readers (log: $LOG_FILE)"
    fi

    deadline=$((SECONDS + START_TIMEOUT))
    while ! healthy "$READERS"; do
        if ((SECONDS >= deadline)); then
            printf 'pcsc-stack: error: PC/SC stack not ready after %ss: %s\n' \
                "$START_TIMEOUT" "$UNHEALTHY" >&2
            log_tail
            exit 1
        fi
        sleep 0.05
    done
    pid="$(find_pcscd)"
    if ! loopback_only "$READERS"; then
        cmd_stop >&2
        die "vpcd is reachable from the network ($EXPOSED): the loopback shim did not take;" \
            "pcscd stopped"
    fi
    if [[ $STATE_PID != "$pid" ]]; then
        printf 'PID=%s\nREADERS=%s\nDEBUG=%s\n' "$pid" "$READERS" "$want_debug" >"$STATE_FILE"
    fi
    say "ready: pcscd pid $pid, socket $SOCKET, $READERS vpcd readers on 127.0.0.1 only:" \
        "'$(reader_name 0)' on $VPCD_PORT ... '$(reader_name $((READERS - 1)))' on" \
        "$((VPCD_PORT + READERS - 1))"
}

cmd_stop() {
    local pid i
    pid="$(find_pcscd)"
    if [[ -z $pid ]]; then
        rm -f "$STATE_FILE"
        clean_stale_files
        say "pcscd is not running"
        return 0
    fi
    as_root kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
        is_live_pcscd "$pid" || break
        sleep 0.05
    done
    if is_live_pcscd "$pid"; then
        say "pcscd (pid $pid) ignored SIGTERM; sending SIGKILL"
        as_root kill -KILL "$pid" 2>/dev/null || true
        for ((i = 0; i < 100; i++)); do
            is_live_pcscd "$pid" || break
            sleep 0.05
        done
    fi
    is_live_pcscd "$pid" && die "pcscd (pid $pid) did not stop"
    rm -f "$STATE_FILE"
    clean_stale_files
    say "stopped pcscd (pid $pid)"
}

cmd_status() {
    local pid readers count k port
    pid="$(find_pcscd)"
    if [[ -z $pid ]]; then
        say "pcscd: not running"
        [[ -e $SOCKET || -e $PIDFILE ]] && say "stale files present: $SOCKET / $PIDFILE"
        return 3
    fi
    read_state
    count=2
    if [[ $STATE_PID == "$pid" ]]; then
        count=$STATE_READERS
        say "pcscd: pid $pid, started by this script: $count readers, debug log $([[ $STATE_DEBUG == 1 ]] && echo ON || echo off)"
    else
        say "pcscd: pid $pid, not started by this script (run '$0 restart')"
    fi
    say "socket: $([[ -S $SOCKET ]] && echo "$SOCKET" || echo missing)"
    for ((k = 0; k < count; k++)); do
        port=$((VPCD_PORT + k))
        if ! port_listening "$port"; then
            say "reader $k: port $port closed"
        elif port_loopback_only "$port"; then
            say "reader $k: port $port LISTEN on loopback only"
        else
            say "reader $k: port $port LISTEN on every interface (reachable from the network)"
        fi
    done
    readers="$(list_readers || true)"
    say "readers: ${readers//$'\n'/; }"
    if healthy "$count" && loopback_only "$count"; then
        say "healthy"
        return 0
    fi
    say "unhealthy: ${UNHEALTHY:-$EXPOSED}"
    return 1
}

cmd_readers() {
    local pid count=2 k
    pid="$(find_pcscd)"
    read_state
    [[ -n $pid && $STATE_PID == "$pid" ]] && count=$STATE_READERS
    for ((k = 0; k < count; k++)); do
        printf '%s\t%s\t%s\n' "$k" $((VPCD_PORT + k)) "$(reader_name "$k")"
    done
}

main() {
    case "${1:-}" in
    install) install_packages "${PACKAGES[@]}" ;;
    install-packages)
        shift
        [[ $# -gt 0 ]] || die "install-packages needs at least one package name"
        install_packages "$@"
        ;;
    start)
        shift
        cmd_start "$@"
        ;;
    stop) cmd_stop ;;
    restart)
        shift
        parse_readers "$@" # refuse a bad --readers before stopping anything
        cmd_stop
        cmd_start "$@"
        ;;
    status) cmd_status ;;
    readers) cmd_readers ;;
    *)
        printf 'usage: %s install|install-packages PKG...|start [--readers N]|stop|restart [--readers N]|status|readers\n' "$0" >&2
        exit 2
        ;;
    esac
}

main "$@"
