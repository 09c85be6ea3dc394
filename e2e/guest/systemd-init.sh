#!/usr/bin/bash
# e2e/guest/systemd-init.sh: the e2e guest's systemd mode. With e2e.systemd=1 on the kernel command line, /init's
# stage 2 (e2e/guest/init) execs this as PID 1 once the new root is up (9p shares, overlays, devpts), instead of
# doing its coldplug and running the command itself. This script:
#   1. gives dpkg a database: the host's /var/lib/dpkg, from a tar the host made (the guest's /var is a tmpfs), so
#      that the real `dpkg -i` checks the package's dependencies against what the host (whose /usr this is) has;
#   2. takes out what the host's /etc enables and a guest cannot do (its fstab, its enabled services and timers,
#      gettys on the console), in the guest's /etc overlay only;
#   3. installs the vfiod .deb with `dpkg -i` (maintainer scripts included: they see no running systemd, so they
#      enable vfiod.service and start nothing, as on a machine being installed);
#   4. sources an optional pre-boot file (files a scenario needs in /etc before udevd and systemd start);
#   5. writes e2e.target (the default target: basic.target, and multi-user.target if asked, plus e2e-run.service)
#      and e2e-run.service, a oneshot that runs the command after the system is up, writes /results/stdout,
#      /results/stderr, /results/rc and the journal (/results/journal.txt), and powers off;
#   6. execs /usr/lib/systemd/systemd as PID 1. systemd's udevd does the coldplug (systemd-udev-trigger), D-Bus
#      activation starts what the scenario calls.
#
# Kernel command line (besides e2e.systemd=1; paths are relative to the project, /vfiod, unless absolute):
#   e2e.deb=PATH        the .deb to install (none: nothing is installed)
#   e2e.dpkgdb=PATH     tar of the host's /var/lib/dpkg (e2e/lib/systemd.sh makes it); needed with e2e.deb
#   e2e.preboot=PATH    a bash file sourced here, after the install and before systemd starts
#   e2e.boot=multi-user e2e.target also pulls multi-user.target, so enabled services start as on a normal boot,
#                       and the command runs after it
#   e2e.run=PATH        the command's script (default /results/run.sh), as in /init
# Nothing of vfiod's package, nor the bus's configuration (its 25 s activation timeout), is changed here: the point is
# the package as shipped, on the host's own configuration.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/run/e2e/bin
export HOME=/root TERM=dumb
CMDLINE=$(</proc/cmdline)
exec </dev/console >/dev/console 2>&1

mark() { local up _; read -r up _ < /proc/uptime; echo "[e2e ${up}s] $*"; }
fatal() {
    echo "e2e-systemd-init: FATAL: $*"
    echo "systemd-init: $*" > /results/init-error
    sync
    /run/e2e/busybox poweroff -f
}
arg() {
    local a v=""
    for a in $CMDLINE; do
        [ "$a" = -- ] && break
        case "$a" in "$1="*) v=${a#*=} ;; esac
    done
    echo "$v"
}
project_path() { case "$1" in /*) echo "$1" ;; *) echo "/vfiod/$1" ;; esac; }
mark "systemd-init: preparing the root for systemd"

# systemd mounts a fresh tmpfs on /run unless /run is a mount point already: a bind keeps /run/e2e (init's copies,
# the overlays' upper layers) in sight
mountpoint -q /run || mount --bind /run /run || fatal "bind /run"

# ---- 2. the host's configuration that makes no sense in a guest (only in the guest's /etc overlay)
: > /etc/fstab   # the host's disks are not here; the root is a tmpfs that /init assembled
# services, timers and sockets the host enabled (a database server, apt's timers, ...): the guest starts only what
# the units of its packages (and vfiod's postinst) enable
rm -rf /etc/systemd/system/*.wants /etc/systemd/system/default.target
# no login prompt on the console (the command's output goes there)
ln -sf /dev/null /etc/systemd/system/getty.target
ln -sf /dev/null /etc/systemd/system/serial-getty@.service
# no network in the guest
ln -sf /dev/null /etc/systemd/system/systemd-timesyncd.service

# ---- 1. + 3. dpkg's database and the package
deb=$(arg e2e.deb)
if [ -n "$deb" ]; then
    deb=$(project_path "$deb")
    db=$(project_path "$(arg e2e.dpkgdb)")
    [ -f "$db" ] || fatal "no dpkg database tar ($db): see e2e/lib/systemd.sh"
    mkdir -p /var/lib /var/log /var/cache/apt/archives /var/lib/dpkg
    t=${EPOCHREALTIME/./}
    tar -xf "$db" -C /var/lib || fatal "unpacking $db"
    mark "systemd-init: dpkg database unpacked ($(( (${EPOCHREALTIME/./} - t) / 1000 )) ms)"
    t=${EPOCHREALTIME/./}
    dpkg -i "$deb" > /results/dpkg-install.log 2>&1
    rc=$?
    echo "$rc" > /results/dpkg-install.rc
    sed 's/^/  dpkg| /' /results/dpkg-install.log
    mark "systemd-init: dpkg -i ${deb##*/}: exit $rc ($(( (${EPOCHREALTIME/./} - t) / 1000 )) ms)"
    printf 'cmd\t%s\t%s\n' "dpkg -i (before systemd)" "$(( (${EPOCHREALTIME/./} - t) / 1000 ))ms" >> /results/timings
fi

# ---- 4. the scenario's own preparations
pre=$(arg e2e.preboot)
if [ -n "$pre" ]; then
    pre=$(project_path "$pre")
    [ -f "$pre" ] || fatal "no pre-boot file $pre"
    mark "systemd-init: sourcing $pre"
    # shellcheck disable=SC1090
    . "$pre" || fatal "$pre failed"
fi

# ---- 5. the target and the unit that runs the command
run=$(arg e2e.run); run=${run:-/results/run.sh}
[ -f "$run" ] || fatal "nothing to run: no $run"
after=basic.target
wants=""
if [ "$(arg e2e.boot)" = multi-user ]; then
    after="basic.target multi-user.target"
    wants="multi-user.target"
fi
mkdir -p /etc/e2e
cat > /etc/systemd/system/e2e.target <<EOF
# written by e2e/guest/systemd-init.sh: what the scenario needs, and the scenario
[Unit]
Description=vfiod e2e guest
Requires=basic.target
After=basic.target
Wants=$wants e2e-run.service
AllowIsolate=yes
EOF
ln -sf e2e.target /etc/systemd/system/default.target
cat > /etc/systemd/system/e2e-run.service <<EOF
# written by e2e/guest/systemd-init.sh: runs the scenario's guest script once the system is up, then powers off
[Unit]
Description=vfiod e2e: the scenario's guest script
After=$after
[Service]
# simple, not oneshot: the boot is finished (systemd-analyze can tell its chain) while the script runs
Type=simple
ExecStart=/usr/bin/bash /etc/e2e/run $run
StandardInput=null
StandardOutput=journal
StandardError=journal
# no LANG: with a UTF-8 locale every exec reads locale files over 9p (3x slower under TCG); as /init runs commands
UnsetEnvironment=LANG LANGUAGE LC_ALL
Environment=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin HOME=/root TERM=dumb
Environment=E2E=1 E2E_SYSTEMD=1 E2E_RESULTS=/results E2E_PROJECT=/vfiod E2E_KVER=$(uname -r)
EOF
cat > /etc/e2e/run <<'EOF'
# e2e-run.service's command (written by e2e/guest/systemd-init.sh): the script's output to the console and to
# /results/stdout and /results/stderr, its exit code to /results/rc, the journal to /results/journal.txt; then
# power off at once (everything is on the host already: /results is uncached 9p)
cd /results || exit 1
rm -f /results/rc /results/stdout /results/stderr
read -r up _ < /proc/uptime
echo "[e2e ${up}s] e2e-run.service: running $1 (systemd $(systemctl is-system-running 2>/dev/null))" > /dev/console
bash "$1" > >(tee /results/stdout > /dev/console) 2> >(tee /results/stderr > /dev/console) < /dev/null
rc=$?
sleep 1   # the tees
journalctl -b --no-pager -o short-monotonic > /results/journal.txt 2>&1
echo "$rc" > /results/rc
read -r up _ < /proc/uptime
echo "[e2e ${up}s] e2e-run.service: command exited with $rc; powering off" > /dev/console
sync
systemctl --force --force poweroff
EOF

mark "systemd-init: exec /usr/lib/systemd/systemd (default target e2e.target${wants:+, with $wants})"
exec /usr/lib/systemd/systemd
fatal "exec systemd failed"
