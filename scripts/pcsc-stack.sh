#!/usr/bin/env bash
# Bring up the PC/SC stack (pcscd + vsmartcard's vpcd driver) on Debian, without systemd.
# Facts and traps: shared/spec/pcsc-vpcd.md §1.
#
#   scripts/pcsc-stack.sh install   apt-get the packages (fast no-op when already installed)
#   scripts/pcsc-stack.sh install-packages PKG...   apt-get the given packages, when missing
#   scripts/pcsc-stack.sh start     start pcscd detached and wait until `Virtual PCD 00 00` is listed
#   scripts/pcsc-stack.sh stop      stop pcscd and remove its stale socket/pid files
#   scripts/pcsc-stack.sh restart   stop, then start
#   scripts/pcsc-stack.sh status    exit 0 healthy, 1 running but unhealthy, 3 not running
#
# Environment: PCSC_LOG_DIR (default /tmp/mynacard-pcscd, made mode 0700; the log is 0600),
# PCSC_START_TIMEOUT (seconds, default 15), PYTHON (an interpreter with pyscard, used to list
# readers; default: the repo's .venv, then python3),
# PCSC_DEBUG=1 (pcscd --debug --apdu): pcscd logs EVERY APDU in clear, the PINs in VERIFY and
# CHANGE REFERENCE DATA included. Only for debugging TEST cards; never with a real card's PIN.
#
# Not root: commands go through sudo. Without a terminal on stdin, `sudo -n` is used, so a sudo
# that wants a password fails at once with a message instead of hanging.
set -euo pipefail

readonly PACKAGES=(pcscd vsmartcard-vpcd libpcsclite-dev opensc pcsc-tools swig)
readonly RUN_DIR=/run/pcscd
readonly SOCKET="$RUN_DIR/pcscd.comm"
readonly PIDFILE="$RUN_DIR/pcscd.pid"
readonly VPCD_PORT=35963 # reader `Virtual PCD 00 00`; 35964 is `00 01`
readonly READER="Virtual PCD 00 00"
readonly VPCD_DRIVER=/usr/lib/pcsc/drivers/serial/libifdvpcd.so
LOG_DIR="${PCSC_LOG_DIR:-/tmp/mynacard-pcscd}"
LOG_FILE="$LOG_DIR/pcscd.log"
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

# True when PORT is in LISTEN state, read from /proc/net/tcp and tcp6.
port_listening() {
    local hex
    hex="$(printf '%04X' "$1")"
    awk -v port=":$hex" '
        FNR > 1 && substr($2, length($2) - 4) == port && $4 == "0A" { found = 1 }
        END { exit !found }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
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

# Set UNHEALTHY to the first thing missing; true when the stack is ready (§1 "Readiness").
UNHEALTHY=""
healthy() {
    local pid
    pid="$(find_pcscd)"
    if [[ -z $pid ]]; then
        UNHEALTHY="no live pcscd process"
    elif [[ ! -S $SOCKET ]]; then
        UNHEALTHY="pcscd (pid $pid) has no socket $SOCKET yet"
    elif ! port_listening "$VPCD_PORT"; then
        UNHEALTHY="nothing listens on vpcd's port $VPCD_PORT"
    elif ! grep -qxF "$READER" <<<"$(list_readers || true)"; then
        UNHEALTHY="reader '$READER' not listed by pcscd"
    else
        UNHEALTHY=""
        return 0
    fi
    return 1
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

cmd_start() {
    local pid deadline
    command -v pcscd >/dev/null 2>&1 || die "pcscd is not installed: run '$0 install'"
    [[ -e $VPCD_DRIVER ]] || die "vpcd driver $VPCD_DRIVER missing: run '$0 install'"

    pid="$(find_pcscd)"
    if [[ -z $pid ]]; then
        # A killed pcscd leaves its socket and pid file, which block a new one (§1).
        clean_stale_files
        if port_listening "$VPCD_PORT"; then
            # pcscd would start without its vpcd reader and only log "Virtual PCD init failed".
            die "port $VPCD_PORT is already in use by another program; vpcd cannot listen on it"
        fi
        # The log may hold APDUs (PCSC_DEBUG=1): private to its owner.
        # shellcheck disable=SC2174 # -m for the log directory itself is what is meant
        mkdir -p -m 0700 "$LOG_DIR"
        [[ -O $LOG_DIR ]] || die "log directory $LOG_DIR belongs to another user; set PCSC_LOG_DIR"
        chmod 0700 "$LOG_DIR"
        (umask 077 && : >>"$LOG_FILE")
        chmod 0600 "$LOG_FILE"
        # Any sudo refusal or password prompt now, in the foreground, not in the background job.
        check_root setsid pcscd
        as_root true
        local args=(--foreground)
        if [[ ${PCSC_DEBUG:-0} == 1 ]]; then
            args+=(--debug --apdu)
        fi
        # No --auto-exit: it quits after 60 s idle (§1).
        printf '=== %s pcscd %s\n' "$(date -Is)" "${args[*]}" >>"$LOG_FILE"
        if [[ $EUID -eq 0 ]]; then
            setsid pcscd "${args[@]}" </dev/null >>"$LOG_FILE" 2>&1 &
        else
            as_root setsid pcscd "${args[@]}" </dev/null >>"$LOG_FILE" 2>&1 &
        fi
        say "starting pcscd (log: $LOG_FILE)"
    fi

    deadline=$((SECONDS + START_TIMEOUT))
    while ! healthy; do
        if ((SECONDS >= deadline)); then
            printf 'pcsc-stack: error: PC/SC stack not ready after %ss: %s\n' \
                "$START_TIMEOUT" "$UNHEALTHY" >&2
            log_tail
            exit 1
        fi
        sleep 0.05
    done
    say "ready: pcscd pid $(find_pcscd), socket $SOCKET, reader '$READER' on 127.0.0.1:$VPCD_PORT"
}

cmd_stop() {
    local pid i
    pid="$(find_pcscd)"
    if [[ -z $pid ]]; then
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
    clean_stale_files
    say "stopped pcscd (pid $pid)"
}

cmd_status() {
    local pid readers
    pid="$(find_pcscd)"
    if [[ -z $pid ]]; then
        say "pcscd: not running"
        [[ -e $SOCKET || -e $PIDFILE ]] && say "stale files present: $SOCKET / $PIDFILE"
        return 3
    fi
    say "pcscd: pid $pid"
    say "socket: $([[ -S $SOCKET ]] && echo "$SOCKET" || echo missing)"
    say "vpcd ports: 35963 $(port_listening 35963 && echo LISTEN || echo closed)," \
        "35964 $(port_listening 35964 && echo LISTEN || echo closed)"
    readers="$(list_readers || true)"
    say "readers: ${readers//$'\n'/; }"
    if healthy; then
        say "healthy"
        return 0
    fi
    say "unhealthy: $UNHEALTHY"
    return 1
}

main() {
    case "${1:-}" in
    install) install_packages "${PACKAGES[@]}" ;;
    install-packages)
        shift
        [[ $# -gt 0 ]] || die "install-packages needs at least one package name"
        install_packages "$@"
        ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    restart)
        cmd_stop
        cmd_start
        ;;
    status) cmd_status ;;
    *)
        printf 'usage: %s install|install-packages PKG...|start|stop|restart|status\n' "$0" >&2
        exit 2
        ;;
    esac
}

main "$@"
