# e2e/lib/systemd.sh: host-side helpers for guests booted with systemd as PID 1 and the vfiod .deb installed
# (e2e.systemd=1, see e2e/guest/systemd-init.sh). Source it after e2e/lib/qemu.sh and e2e/lib/vfiod.sh.
# Nothing here touches this machine's /sys, its system bus or its dpkg database (which is only read).
#
#   sd_e2e_deb       packaging/target/vfiod_<version>_all.deb built (packaging/build-deb.sh, LINTIAN=0) and no older
#                    than the jars, the units and the packaging files; sets SD_E2E_DEB (relative to the project)
#   sd_e2e_dpkgdb    .cache/e2e/systemd/dpkg-db.tar: this machine's /var/lib/dpkg (without the md5sums, which dpkg -i
#                    does not read), so the guest's dpkg checks the package's dependencies against the /usr it runs;
#                    sets SD_E2E_DPKGDB (relative to the project)
#   sd_e2e_append    the kernel command line for a systemd guest with the package installed, in SD_E2E_APPEND

SD_E2E_DIR=$E2E_CACHE/systemd

_sd_e2e_deb() {
    local d newest
    # build-deb.sh names the .deb after the root pom's version
    SD_E2E_DEB=$(cd "$E2E_TOP" && ls -t packaging/target/vfiod_*_all.deb 2>/dev/null | head -1)
    if [ -n "$SD_E2E_DEB" ]; then
        newest=$(find "$E2E_TOP/daemon/target/vfiod.jar" "$E2E_TOP/cli/target/vfioctl.jar" "$E2E_TOP/systemd" \
            "$E2E_TOP/packaging/bin" "$E2E_TOP/packaging/dbus" "$E2E_TOP/packaging/debian" "$E2E_TOP/packaging/polkit" \
            "$E2E_TOP/packaging/build-deb.sh" -newer "$E2E_TOP/$SD_E2E_DEB" -type f -print -quit 2>/dev/null)
        [ -z "$newest" ] && return 0
        e2e_log "the .deb is older than $newest: building it again"
    fi
    e2e_log "building the .deb (LINTIAN=0 packaging/build-deb.sh)"
    (cd "$E2E_TOP" && LINTIAN=0 packaging/build-deb.sh > "$E2E_LOGS/build-deb.log" 2>&1) \
        || { tail -20 "$E2E_LOGS/build-deb.log" >&2; e2e_log "packaging/build-deb.sh failed (e2e/logs/build-deb.log)"; return 1; }
    SD_E2E_DEB=$(cd "$E2E_TOP" && ls -t packaging/target/vfiod_*_all.deb | head -1)
}
sd_e2e_deb() {
    mkdir -p "$E2E_LOGS"
    _vfiod_e2e_locked _sd_e2e_deb || return 1
    SD_E2E_DEB=$(cd "$E2E_TOP" && ls -t packaging/target/vfiod_*_all.deb | head -1)
    [ -n "$SD_E2E_DEB" ] || { e2e_log "no packaging/target/vfiod_*_all.deb"; return 1; }
}

_sd_e2e_dpkgdb() {
    local tar=$SD_E2E_DIR/dpkg-db.tar
    [ -f "$tar" ] && [ "$tar" -nt /var/lib/dpkg/status ] && return 0
    mkdir -p "$SD_E2E_DIR"
    tar -C /var/lib --exclude='dpkg/info/*.md5sums' --exclude='dpkg/lock*' --exclude='dpkg/*-old' -cf "$tar.tmp" dpkg \
        || { rm -f "$tar.tmp"; e2e_log "cannot tar /var/lib/dpkg"; return 1; }
    mv "$tar.tmp" "$tar"
    e2e_log "dpkg database for the guests: ${tar#$E2E_TOP/} ($(du -h "$tar" | cut -f1))"
}
sd_e2e_dpkgdb() {
    _vfiod_e2e_locked _sd_e2e_dpkgdb || return 1
    SD_E2E_DPKGDB=${SD_E2E_DIR#$E2E_TOP/}/dpkg-db.tar
}

# sd_e2e_append [MORE...]: e2e.systemd=1, the package and its database, and MORE (e.g. e2e.preboot=..., e2e.boot=...)
sd_e2e_append() {
    # systemd's status lines on the console: only failures (its progress lines would bury the scenario's output;
    # the whole journal goes to the results anyway)
    SD_E2E_APPEND="e2e.systemd=1 e2e.deb=$SD_E2E_DEB e2e.dpkgdb=$SD_E2E_DPKGDB systemd.show_status=error $*"
}
