#!/bin/sh
# make check-fresh-machine: the README's two commands on a machine that has nothing but what the README asks
# for. A minimal Debian bookworm root (debootstrap) under .data/fresh-machine/root gets a clean copy of the
# committed tree (git archive HEAD), `make` and the certificate authorities to fetch over HTTPS, and nothing
# else; inside it (chroot) `make install` installs everything from the package registries, `make go-toolchain`
# fetches Go and `make k8s-validate` builds with it (the smallest of make test's Go builds), then `make run`
# must print its URLs and stop on Ctrl-C (SIGINT), and `make test-unit` must pass (FRESH_MACHINE_TESTS=full:
# the whole `make test`, after the other Go builds). Needs root (debootstrap,
# chroot, mounts); the host gets nothing but the debootstrap package.
#
# The whole check runs in a private mount namespace, so the chroot's /proc, /sys and /dev mounts can never
# outlive it; they are also unmounted on exit. `make run` and the tests run in a private network namespace
# (loopback only): the stack's default ports cannot collide with another stack on the same machine, and
# nothing is fetched after the installs.
set -eu

if [ -z "${ANXIN_FRESH_MACHINE_NS:-}" ]; then
    exec env ANXIN_FRESH_MACHINE_NS=1 unshare --mount --propagation private sh "$0" "$@"
fi

CHECKOUT=$(pwd)
WORK=${FRESH_MACHINE_DIR:-$CHECKOUT/.data/fresh-machine}
ROOT=$WORK/root
SUITE=bookworm
READY_TIMEOUT=${FRESH_MACHINE_READY_TIMEOUT:-900}
# `unit` (the default, about 8 minutes): make test-unit after make run; `full`: the whole make test (about 30).
TESTS=${FRESH_MACHINE_TESTS:-unit}
# The host's own Debian mirror (it may be the only one it reaches); deb.debian.org otherwise.
MIRROR=${FRESH_MACHINE_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
        /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | sed -n -e 's|^URIs: *\(https\{0,1\}://[^ ]*/debian\)/\{0,1\}$|\1|p' \
             -e 's|^deb \(\[[^]]*\] \)\{0,1\}\(https\{0,1\}://[^ ]*/debian\)/\{0,1\} .*|\2|p' \
    | head -n 1)}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
SECURITY_MIRROR=${FRESH_MACHINE_SECURITY_MIRROR:-${MIRROR}-security}
CHROOT_PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf '%s  %s\n' "$(date -u +%H:%M:%S)" "$*"; }
now() { date +%s; }
RESULTS=""
record() { RESULTS="$RESULTS$(printf '  %-52s %5ss' "$1" "$2")
"; }

unmount_all() {
    # A stack still running in the machine (a failed check) is stopped first, while its /proc is there.
    lock="$ROOT/root/anxin/.data/stack.lock"
    launcher=$(cat "$lock" 2>/dev/null || true)
    # Only a launcher of this machine: the pid is read back from /proc, its root must be the machine's.
    if [ -n "$launcher" ] && [ "$(readlink "/proc/$launcher/root" 2>/dev/null)" = "$ROOT" ] \
        && grep -q deploy.launcher "/proc/$launcher/cmdline" 2>/dev/null; then
        echo "stopping the stack left running in the fresh machine (launcher $launcher)"
        kill -TERM "$launcher"
        i=0; while kill -0 "$launcher" 2>/dev/null && [ $i -lt 90 ]; do i=$((i + 1)); sleep 1; done
    fi
    for dir in dev sys proc; do
        if grep -q " $ROOT/$dir " /proc/mounts; then umount -R "$ROOT/$dir" || umount -R -l "$ROOT/$dir"; fi
    done
}
trap unmount_all EXIT
trap 'exit 130' INT TERM

mount_all() {
    mount -t proc proc "$ROOT/proc"
    mount --rbind /sys "$ROOT/sys"
    mount --rbind /dev "$ROOT/dev"
}

# A command inside the fresh machine, with a clean environment (nothing of the host's shell leaks in).
in_machine() {
    chroot "$ROOT" env -i HOME=/root PATH=$CHROOT_PATH LANG=C.UTF-8 TERM=dumb $EXTRA_ENV sh -c "$1"
}

# The same without a network: only loopback, as a fresh private namespace has it.
in_machine_offline() {
    unshare --net sh -c 'ip link set lo up && exec "$@"' sh \
        chroot "$ROOT" env -i HOME=/root PATH=$CHROOT_PATH LANG=C.UTF-8 TERM=dumb $EXTRA_ENV sh -c "$1"
}

[ "$(id -u)" = 0 ] || { echo "make check-fresh-machine needs root (debootstrap, chroot, mounts)" >&2; exit 1; }
if ! command -v debootstrap >/dev/null 2>&1; then
    log "installing debootstrap on this machine"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
fi

started=$(now)
mkdir -p "$WORK"
unmount_all
rm -rf "$ROOT"
log "debootstrap --variant=minbase $SUITE from $MIRROR into $ROOT"
t=$(now)
debootstrap --variant=minbase "$SUITE" "$ROOT" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 \
    || { tail -n 20 "$WORK/debootstrap.log"; exit 1; }
record "debootstrap (minimal Debian $SUITE)" $(($(now) - t))
# A Debian machine as installed reads its suite's updates and security archives too (debootstrap writes
# only the suite): without them the root would get bookworm's first Chromium, not the one a machine has.
cat > "$ROOT/etc/apt/sources.list" <<SOURCES
deb $MIRROR $SUITE main
deb $MIRROR $SUITE-updates main
deb $SECURITY_MIRROR $SUITE-security main
SOURCES

log "a clean copy of the committed tree (git archive HEAD) in /root/anxin"
mkdir -p "$ROOT/root/anxin"
git -C "$CHECKOUT" archive --format=tar HEAD | tar -x -C "$ROOT/root/anxin"
cp /etc/resolv.conf "$ROOT/etc/resolv.conf"

# What a bare machine needs to fetch: make, and the certificate authorities for HTTPS. A network that
# inspects HTTPS (a proxy with its own authority in /usr/local/share/ca-certificates) is part of the
# network, not of the machine: its authority is carried in, and pip is told to use the system's store.
EXTRA_ENV=""
if ls /usr/local/share/ca-certificates/*.crt >/dev/null 2>&1; then
    mkdir -p "$ROOT/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$ROOT/usr/local/share/ca-certificates/"
    EXTRA_ENV="PIP_CERT=/etc/ssl/certs/ca-certificates.crt"
    log "carrying in this network's certificate authorities: $(ls /usr/local/share/ca-certificates/)"
fi

mount_all
t=$(now)
log "the bare machine: apt-get install make ca-certificates"
in_machine "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    make ca-certificates >/dev/null && update-ca-certificates >/dev/null" > "$WORK/bare.log" 2>&1 \
    || { tail -n 20 "$WORK/bare.log"; exit 1; }
record "apt-get install make ca-certificates" $(($(now) - t))
for tool in python3 python3.11 java mvn go; do
    if in_machine "command -v $tool" > /dev/null 2>&1; then
        echo "the fresh machine already has $tool: not a bare machine" >&2; exit 1
    fi
done

log "make install (what make run and make test do first): log in $WORK/install.log"
t=$(now)
in_machine "cd /root/anxin && make install" > "$WORK/install.log" 2>&1 \
    || { tail -n 30 "$WORK/install.log"; exit 1; }
record "make install (toolchain, packages, venv, jars)" $(($(now) - t))

log "make go-toolchain and make k8s-validate (the Go that make test builds with): log in $WORK/go.log"
t=$(now)
in_machine "cd /root/anxin && make go-toolchain && make k8s-validate && PATH=\$PWD/.tools/go/go1.27.3/bin:\$PATH go version" \
    > "$WORK/go.log" 2>&1 || { tail -n 30 "$WORK/go.log"; exit 1; }
tail -n 1 "$WORK/go.log"
record "make go-toolchain, make k8s-validate" $(($(now) - t))

log "make run, offline, until it prints its URLs; then Ctrl-C: log in $WORK/run.log"
# As a person would: start it, wait for the URLs, ask for the status, press Ctrl-C (SIGINT to its process
# group). A command started in the background by sh ignores SIGINT, and sh cannot undo that; the virtualenv's
# Python (there after make install) gives `make run` a session of its own with SIGINT as a terminal has it.
cat > "$ROOT/root/run-until-ready.sh" <<EOF
cd /root/anxin
.venv/bin/python -c 'import os, signal; signal.signal(signal.SIGINT, signal.SIG_DFL); os.setsid(); \
    os.execvp("make", ["make", "run"])' > /root/run.log 2>&1 &
pid=\$!
i=0
while ! grep -q 'Press Ctrl-C to stop' /root/run.log; do
    kill -0 \$pid 2>/dev/null || { echo "make run exited before it was ready"; tail -n 30 /root/run.log; exit 1; }
    i=\$((i + 1))
    [ \$i -le $READY_TIMEOUT ] || { echo "make run not ready in ${READY_TIMEOUT}s"; kill -INT -\$pid; exit 1; }
    sleep 1
done
echo "ready \$i s after make run started"
sed -n '/is ready in/,/Press Ctrl-C/p' /root/run.log
make -s status
kill -INT -\$pid
i=0
while ! grep -q '^Stopped' /root/run.log || kill -0 -\$pid 2>/dev/null; do
    i=\$((i + 1))
    [ \$i -le 120 ] || { echo "make run did not stop within 120s of Ctrl-C"; tail -n 5 /root/run.log; exit 1; }
    sleep 1
done
echo "stopped \$i s after Ctrl-C; no process of its group is left"
EOF
t=$(now)
in_machine_offline "sh /root/run-until-ready.sh" > "$WORK/run.log" 2>&1 || { cat "$WORK/run.log"; exit 1; }
cat "$WORK/run.log"
if grep -q '"ready": false' "$WORK/run.log"; then echo "a process was not ready" >&2; exit 1; fi
record "make run: ready, URLs printed, stopped" $(($(now) - t))

if [ "$TESTS" = full ]; then
    # The whole suite: its other Go builds (Temporal Server, its Web UI) fetch modules, so they are made
    # first with the network; then `make test` runs offline, finding them built.
    log "make temporal-server temporal-ui (make test's other builds): log in $WORK/builds.log"
    t=$(now)
    in_machine "cd /root/anxin && make temporal-server temporal-ui" > "$WORK/builds.log" 2>&1 \
        || { tail -n 30 "$WORK/builds.log"; exit 1; }
    record "make temporal-server temporal-ui" $(($(now) - t))
    log "make test, offline: log in $WORK/test.log"
    t=$(now)
    in_machine_offline "cd /root/anxin && make test" > "$WORK/test.log" 2>&1 \
        || { tail -n 40 "$WORK/test.log"; exit 1; }
    tail -n 1 "$WORK/test.log"
    record "make test: $(tail -n 1 "$WORK/test.log" | tr -d '=')" $(($(now) - t))
else
    log "make test-unit, offline: log in $WORK/test-unit.log"
    t=$(now)
    in_machine_offline "cd /root/anxin && make test-unit" > "$WORK/test-unit.log" 2>&1 \
        || { tail -n 40 "$WORK/test-unit.log"; exit 1; }
    tail -n 1 "$WORK/test-unit.log"
    record "make test-unit: $(tail -n 1 "$WORK/test-unit.log" | tr -d '=')" $(($(now) - t))
fi

record "total" $(($(now) - started))
printf '\nThe fresh machine (%s) ran the README'"'"'s commands:\n%s' "$SUITE" "$RESULTS" | tee "$WORK/result.txt"
