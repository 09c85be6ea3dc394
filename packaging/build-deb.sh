#!/usr/bin/env bash
# Builds the Debian package of vfiod with dpkg-deb alone (no debhelper, no source package):
#   packaging/target/vfiod_<version>_all.deb      (version from the root pom: 0.1.0-SNAPSHOT -> 0.1.0~SNAPSHOT-1)
#
#   packaging/build-deb.sh            build the jars first if they are missing, then the .deb, then check it
#   REBUILD=1 packaging/build-deb.sh  run "mvn package" even if the jars exist
#   LINTIAN=0 packaging/build-deb.sh  skip lintian (it runs when installed; tags are explained in packaging/README.md)
#   DEB_REVISION=2 ...                the Debian revision (default 1)
#   DEBFULLNAME / DEBEMAIL            the maintainer (default: the author of the last commit)
#
# What goes where is listed in packaging/README.md. The vfioctl launcher, man page and bash completion come from
# cli/ when it has them (cli/src/main/sh/vfioctl, cli/src/main/man/vfioctl.1, cli/src/main/completion/vfioctl);
# otherwise packaging/bin/vfioctl and placeholders generated into the staging tree (never into cli/).
# Checks after the build: the unit files with systemd-analyze verify (against the staging tree as root), the
# contents of the .deb, and lintian.
set -euo pipefail
export LC_ALL=C.UTF-8
umask 022

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$top"
pkg=packaging
out=$pkg/target
stage=$out/stage
say() { printf '==> %s\n' "$*"; }
die() { printf 'build-deb: %s\n' "$*" >&2; exit 1; }

for tool in dpkg-deb gzip python3 unzip md5sum; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done

# ---- version -------------------------------------------------------------------------------------------------
upstream=$(python3 - pom.xml <<'PY'
import sys, xml.etree.ElementTree as ET
ns = {'m': 'http://maven.apache.org/POM/4.0.0'}
print(ET.parse(sys.argv[1]).getroot().find('m:version', ns).text.strip())
PY
)
[[ $upstream =~ ^[0-9][A-Za-z0-9.+~-]*$ ]] || die "unexpected version '$upstream' in pom.xml"
version="${upstream//-/\~}-${DEB_REVISION:-1}"     # 0.1.0-SNAPSHOT -> 0.1.0~SNAPSHOT-1 (sorts before 0.1.0-1)
deb=$out/vfiod_${version}_all.deb
say "vfiod $version"

# ---- jars ----------------------------------------------------------------------------------------------------
daemon_jar=daemon/target/vfiod.jar
cli_jar=cli/target/vfioctl.jar
build() {
    say "mvn -q -B -DskipTests package"
    # concurrent builds in the same tree can collide in target/: one retry
    mvn -q -B -Dstyle.color=never -DskipTests package || { sleep 5; mvn -q -B -Dstyle.color=never -DskipTests package; }
}
# a jar is stale when a source or resource of its modules is newer
stale() {
    local jar=$1; shift
    [ -n "$(find "${@/%//src/main}" \( -path '*/src/main/java/*' -o -path '*/src/main/resources/*' \) -type f \
        -newer "$jar" -print -quit 2>/dev/null)" ]
}
if [ "${REBUILD:-0}" = 1 ] || [ ! -f "$daemon_jar" ] || [ ! -f "$cli_jar" ]; then
    build
elif stale "$daemon_jar" api daemon || stale "$cli_jar" api cli; then
    say "note: a jar is older than its module's sources; REBUILD=1 rebuilds it"
fi

rm -rf "$stage" "$deb"
mkdir -p "$stage/DEBIAN" "$out"
# copy first, then test the copies: a concurrent build may be rewriting target/
install -D -m 0644 "$daemon_jar" "$stage/usr/share/vfiod/vfiod.jar"
install -D -m 0644 "$cli_jar" "$stage/usr/share/vfiod/vfioctl.jar"
for j in vfiod vfioctl; do
    unzip -tq "$stage/usr/share/vfiod/$j.jar" >/dev/null || die "$j.jar is damaged (a build running?); try again"
done
unzip -p "$stage/usr/share/vfiod/vfiod.jar" META-INF/MANIFEST.MF | grep -q '^Main-Class: org.vfiod.daemon.Main' \
    || die "vfiod.jar has no Main-Class org.vfiod.daemon.Main"
# the simulated kernel (module sim) is for tests and the demo only
simclasses=$(unzip -Z1 "$stage/usr/share/vfiod/vfiod.jar" | grep -c '^org/vfiod/daemon/sim/' || true)
[ "$simclasses" = 0 ] || die "vfiod.jar holds the simulated kernel ($simclasses entries under org/vfiod/daemon/sim/); it must not ship"

# The copyright file names each library the jars embed: stop if a new one appeared.
known='^(META-INF|org/vfiod|org/vfiod1|org/freedesktop|com/sun/jna|org/slf4j|ch/qos/logback|logback\.xml)(/|$)'
unknown=$(for j in vfiod vfioctl; do unzip -Z1 "$stage/usr/share/vfiod/$j.jar"; done | grep -v '/$' \
    | awk -F/ '{ print (NF > 2 ? $1 "/" $2 "/" $3 : $0) }' | sort -u | grep -Ev "$known" || true)
[ -z "$unknown" ] || die "the jars embed code that $pkg/debian/copyright does not cover; add it there:
$unknown"

# ---- files -----------------------------------------------------------------------------------------------------
placeholders=()
inst() { install -D -m "$1" "$2" "$stage/$3"; }

inst 0755 $pkg/bin/vfiod usr/sbin/vfiod
if [ -f cli/src/main/sh/vfioctl ]; then
    inst 0755 cli/src/main/sh/vfioctl usr/bin/vfioctl
else
    inst 0755 $pkg/bin/vfioctl usr/bin/vfioctl
    placeholders+=("usr/bin/vfioctl from $pkg/bin/vfioctl (cli/src/main/sh/vfioctl does not exist yet)")
fi

inst 0644 $pkg/dbus/org.vfiod.conf usr/share/dbus-1/system.d/org.vfiod.conf
inst 0644 $pkg/dbus/org.vfiod.service usr/share/dbus-1/system-services/org.vfiod.service
inst 0644 $pkg/polkit/org.vfiod.policy usr/share/polkit-1/actions/org.vfiod.policy
inst 0644 $pkg/polkit/50-vfiod-group.rules usr/share/doc/vfiod/examples/50-vfiod-group.rules
inst 0644 $pkg/polkit/49-vfiod-scoped.rules.example usr/share/doc/vfiod/examples/49-vfiod-scoped.rules.example
inst 0644 systemd/vfiod.service usr/lib/systemd/system/vfiod.service
inst 0644 systemd/vfiod-rebind@.service usr/lib/systemd/system/vfiod-rebind@.service
inst 0644 $pkg/etc/vfiod/devices.d/README etc/vfiod/devices.d/README
# active: it does nothing for domains without managed='no' PCI hostdevs (see packaging/README.md); the conffile
# only runs the package's code
inst 0755 $pkg/libvirt/vfiod etc/libvirt/hooks/qemu.d/vfiod
inst 0755 $pkg/libvirt/libvirt-hook usr/share/vfiod/libvirt-hook
inst 0644 examples/vfiod-gio.py usr/share/doc/vfiod/examples/vfiod-gio.py
# the Cockpit page: static files Cockpit reads only when it is installed (see packaging/README.md)
for f in manifest.json index.html vfiod.js vfiod.css; do
    inst 0644 $pkg/cockpit/$f usr/share/cockpit/vfiod/$f
done
inst 0644 $pkg/debian/copyright usr/share/doc/vfiod/copyright
inst 0644 $pkg/debian/lintian-overrides usr/share/lintian/overrides/vfiod

mkdir -p "$stage/usr/share/man/man8" "$stage/usr/share/man/man1"
gzip -9n < daemon/src/main/man/vfiod.8 > "$stage/usr/share/man/man8/vfiod.8.gz"
if [ -f cli/src/main/man/vfioctl.1 ]; then
    gzip -9n < cli/src/main/man/vfioctl.1 > "$stage/usr/share/man/man1/vfioctl.1.gz"
else
    placeholders+=("usr/share/man/man1/vfioctl.1.gz (cli/src/main/man/vfioctl.1 does not exist yet)")
    gzip -9n > "$stage/usr/share/man/man1/vfioctl.1.gz" <<EOF
.\\" Placeholder generated by packaging/build-deb.sh until cli/src/main/man/vfioctl.1 exists.
.TH VFIOCTL 1 "$(date -u +%Y-%m-%d)" "vfiod $upstream" "User Commands"
.SH NAME
vfioctl \\- command\\-line client of the vfiod daemon
.SH SYNOPSIS
.B vfioctl
.RI [ OPTION ]...\\& " COMMAND " [ ARGUMENT ]...
.SH DESCRIPTION
.B vfioctl
asks
.BR vfiod (8)
over D\\-Bus to move PCI devices between their host drivers and VFIO, and shows
their state.
Its commands are not written yet; until they are, call the D\\-Bus interface that
.BR vfiod (8)
describes with
.BR busctl (1).
.SH SEE ALSO
.BR vfiod (8),
.BR busctl (1)
EOF
fi
if [ -f cli/src/main/completion/vfioctl ]; then
    inst 0644 cli/src/main/completion/vfioctl usr/share/bash-completion/completions/vfioctl
else
    placeholders+=("usr/share/bash-completion/completions/vfioctl (cli/src/main/completion/vfioctl does not exist yet)")
    mkdir -p "$stage/usr/share/bash-completion/completions"
    cat > "$stage/usr/share/bash-completion/completions/vfioctl" <<'EOF'
# bash completion for vfioctl. Placeholder generated by packaging/build-deb.sh until
# cli/src/main/completion/vfioctl exists: commands, options, and PCI addresses.
_vfioctl() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
    case $prev in
        --address) return 0 ;;
        rebind|restore)
            local d addrs=()
            for d in /sys/bus/pci/devices/*; do [ -e "$d" ] && addrs+=("${d##*/}"); done
            COMPREPLY=($(compgen -W "${addrs[*]}" -- "$cur"))
            return 0 ;;
    esac
    COMPREPLY=($(compgen -W "list rebind restore --address --help" -- "$cur"))
}
complete -F _vfioctl vfioctl
EOF
    chmod 0644 "$stage/usr/share/bash-completion/completions/vfioctl"
fi

# ---- control area ----------------------------------------------------------------------------------------------
if [ -n "${DEBFULLNAME:-}" ] && [ -n "${DEBEMAIL:-}" ]; then
    maintainer="$DEBFULLNAME <$DEBEMAIL>"
else
    maintainer=$(git log -1 --format='%an <%ae>' 2>/dev/null || true)
    [ -n "$maintainer" ] || die "no maintainer: set DEBFULLNAME and DEBEMAIL"
fi
commit=$(git rev-parse --short=12 HEAD 2>/dev/null || echo "no git")
# reproducible: the time of the last commit (or SOURCE_DATE_EPOCH), not of the build
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}

sed -e "s|@VERSION@|$version|" -e "s|@COMMIT@|commit $commit|" -e "s|@MAINTAINER@|$maintainer|" \
    -e "s|@DATE@|$(date -u -R -d "@$SOURCE_DATE_EPOCH")|" $pkg/debian/changelog.in \
    | gzip -9n > "$stage/usr/share/doc/vfiod/changelog.Debian.gz"

for s in postinst prerm postrm; do
    sh -n $pkg/debian/$s || die "$pkg/debian/$s: syntax error"
    install -m 0755 $pkg/debian/$s "$stage/DEBIAN/$s"
done
for l in usr/sbin/vfiod usr/bin/vfioctl; do bash -n "$stage/$l" || die "/$l: syntax error"; done
sh -n "$stage/etc/libvirt/hooks/qemu.d/vfiod" || die "/etc/libvirt/hooks/qemu.d/vfiod: syntax error"
for p in usr/share/vfiod/libvirt-hook usr/share/doc/vfiod/examples/vfiod-gio.py; do
    python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' "$stage/$p" || die "/$p: syntax error"
done
python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$stage/usr/share/cockpit/vfiod/manifest.json" \
    || die "/usr/share/cockpit/vfiod/manifest.json: not JSON"
(cd "$stage" && find etc -type f -printf '/%p\n' | sort) > "$stage/DEBIAN/conffiles"
chmod 0644 "$stage/DEBIAN/conffiles"

find "$stage" -type d -exec chmod 0755 {} +
find "$stage" -newermt "@$SOURCE_DATE_EPOCH" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
installed_size=$(du -s -k --apparent-size --exclude=DEBIAN "$stage" | cut -f1)

cat > "$stage/DEBIAN/control" <<EOF
Package: vfiod
Version: $version
Architecture: all
Maintainer: $maintainer
Installed-Size: $installed_size
Depends: default-jre-headless (>= 2:1.17) | java17-runtime-headless, dbus, polkitd, udev, kmod, python3
Recommends: python3-gi
Suggests: libvirt-daemon-system, cockpit
Section: admin
Priority: optional
Homepage: https://github.com/vfiod/vfiod
Description: daemon that hands PCI devices to VFIO for virtual machines
 vfiod moves a PCI device from its host driver to the right VFIO driver
 (vfio-pci, or a VFIO variant driver found in the kernel's module aliases)
 and back, for every user of the machine, on the system bus as org.vfiod;
 polkit decides who may do it. A failed step puts the devices back, kernel
 writes have deadlines, and devices of one IOMMU group move together.
 .
 Rules in /etc/vfiod/devices.d keep devices on VFIO across reboots and
 hot-plugs; vfiod turns them into udev rules so that the host driver never
 binds those devices at boot.
 .
 This package also contains vfioctl, the command-line client, a libvirt
 hook that moves a domain's managed='no' PCI host devices through vfiod, and
 a Cockpit page, "VFIO devices", for the same moves from the web console.
EOF
(cd "$stage" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' | sort -z | xargs -0 md5sum) > "$stage/DEBIAN/md5sums"
chmod 0644 "$stage/DEBIAN/control" "$stage/DEBIAN/md5sums"
touch -d "@$SOURCE_DATE_EPOCH" "$stage/DEBIAN"/*

# ---- build ---------------------------------------------------------------------------------------------------------
dpkg-deb --root-owner-group -Zxz --build "$stage" "$deb" >/dev/null
say "built $deb ($(du -k "$deb" | cut -f1) KiB)"
for p in "${placeholders[@]}"; do say "placeholder: $p"; done

# ---- checks --------------------------------------------------------------------------------------------------------
say "contents"
dpkg-deb --contents "$deb" | awk '{ printf "    %s %s %8s  %s%s%s\n", $1, $2, $3, $6, ($7 ? " " $7 : ""), ($8 ? " " $8 : "") }'

if command -v systemd-analyze >/dev/null; then
    # verify checks that ExecStart= exists and that the man pages of Documentation= do, and loads the units they
    # depend on (dbus.socket for Type=dbus): so it runs with --root on a scratch root made of this machine's units
    # plus the package's units and launchers, and with MANPATH at the package's man pages. Nothing is installed.
    # Any output (an unknown key is only a warning to verify) fails the build.
    vroot=$(mktemp -d /tmp/vfiod-verify.XXXXXX)
    trap 'rm -rf "$vroot"' EXIT
    mkdir -p "$vroot/lib/systemd" "$vroot/usr"
    cp -a /lib/systemd/system "$vroot/lib/systemd/"
    cp -a "$stage/usr/lib/systemd/system/." "$vroot/lib/systemd/system/"
    cp -a "$stage/usr/sbin" "$stage/usr/bin" "$vroot/usr/"
    say "systemd-analyze verify --root=<this machine's units + the package's>"
    for u in vfiod.service vfiod-rebind@.service; do
        if ! v=$(MANPATH="$top/$stage/usr/share/man" systemd-analyze verify --root="$vroot" \
                "$vroot/lib/systemd/system/$u" 2>&1) || [ -n "$v" ]; then
            die "systemd-analyze verify $u: ${v:-failed}"
        fi
        echo "    $u: ok"
    done
    rm -rf "$vroot"
    trap - EXIT
fi

say "man pages"
for m in "$stage/usr/share/man/man8/vfiod.8.gz" "$stage/usr/share/man/man1/vfioctl.1.gz"; do
    warnings=$(zcat "$m" | groff -man -ww -z 2>&1 || true)
    [ -z "$warnings" ] || die "${m#"$stage"}: $warnings"
    echo "    ${m#"$stage"}: ok"
done

if [ "${LINTIAN:-1}" != 0 ]; then
    if command -v lintian >/dev/null; then
        say "lintian (every tag is explained in $pkg/README.md)"
        # lintian warns against running as root: as root, run it as nobody, on a copy of the .deb in a folder of its
        # own (the tree may be where nobody cannot read, as in root's home)
        as=()
        lint=$top/$deb
        if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1 && command -v runuser >/dev/null; then
            as=(runuser -u nobody --)
            lintdir=$(mktemp -d)
            chmod 755 "$lintdir"
            cp "$deb" "$lintdir/"
            lint=$lintdir/$(basename "$deb")
        fi
        (cd /tmp && "${as[@]}" lintian --info --display-info --display-experimental --pedantic --show-overrides \
            "$lint") | sed 's/^/    /' || true
        if (cd /tmp && "${as[@]}" lintian --fail-on error,warning "$lint" >/dev/null 2>&1); then
            echo "    no errors, no warnings"
        else
            die "lintian reports errors or warnings"
        fi
        [ -z "${lintdir:-}" ] || rm -rf "$lintdir"
    else
        say "lintian is not installed (apt-get install lintian); skipped"
    fi
fi
echo "$deb"
