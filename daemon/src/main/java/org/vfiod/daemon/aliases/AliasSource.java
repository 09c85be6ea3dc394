package org.vfiod.daemon.aliases;

/** Where aliases come from, in kmod's order of priority: configuration first, then depmod's files. */
public enum AliasSource {
    MODPROBE_CONF, MODULES_ALIAS, BUILTIN_MODINFO
}
