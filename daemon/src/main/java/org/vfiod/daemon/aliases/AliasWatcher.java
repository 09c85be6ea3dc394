package org.vfiod.daemon.aliases;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reloads the index when its sources change (depmod after a kernel install rewrites modules.alias; an admin edits
 * modprobe.d). A burst of changes is coalesced into one reload after {@code settle} of quiet; a reload that fails
 * keeps the old index and logs why.
 */
public final class AliasWatcher implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AliasWatcher.class);

    private final AliasSources sources;
    private final AtomicReference<AliasIndex> index;
    private final Consumer<AliasIndex> onReload;
    private final Duration settle;
    private final WatchService watch;
    private final Thread thread;

    public AliasWatcher(AliasSources sources, AtomicReference<AliasIndex> index, Duration settle,
                        Consumer<AliasIndex> onReload) throws IOException {
        this.sources = sources;
        this.index = index;
        this.settle = settle;
        this.onReload = onReload;
        this.watch = FileSystems.getDefault().newWatchService();
        for (Path dir : folders(sources)) {
            dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_DELETE,
                    StandardWatchEventKinds.ENTRY_MODIFY);
        }
        this.thread = new Thread(this::loop, "alias-watch");
        thread.setDaemon(true);
        thread.start();
    }

    /** The folders that exist among the sources' folders: a file is replaced by rename, so watch its folder. */
    static List<Path> folders(AliasSources s) {
        Set<Path> dirs = new LinkedHashSet<>(s.modprobeDirs());
        if (s.modulesAlias().getParent() != null) dirs.add(s.modulesAlias().getParent());
        if (s.builtinModinfo().getParent() != null) dirs.add(s.builtinModinfo().getParent());
        List<Path> out = new ArrayList<>();
        for (Path d : dirs) if (Files.isDirectory(d)) out.add(d);
        return out;
    }

    private void loop() {
        try {
            while (true) {
                WatchKey key = watch.take();
                key.pollEvents();
                key.reset();
                WatchKey more;
                while ((more = watch.poll(settle.toMillis(), TimeUnit.MILLISECONDS)) != null) {
                    more.pollEvents();
                    more.reset();
                }
                reload();
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closing
        }
    }

    private void reload() {
        try {
            AliasIndex fresh = AliasIndex.reload(sources);
            AliasIndex old = index.getAndSet(fresh);
            LOG.info("alias sources changed: {} vfio_ aliases (was {})", fresh.size(), old == null ? 0 : old.size());
            onReload.accept(fresh);
        } catch (AliasSourceException e) {
            LOG.warn("alias sources changed but cannot be read, keeping the previous aliases: {}", e.getMessage());
        }
    }

    @Override
    public void close() throws IOException {
        watch.close();
        thread.interrupt();
    }
}
