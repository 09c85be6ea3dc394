/*
 * vfiod's Cockpit page. Everything comes from vfiod's D-Bus contract (api/.../org.vfiod1.xml): the device objects
 * through the ObjectManager (cockpit.dbus proxies, kept current by InterfacesAdded/Removed and PropertiesChanged:
 * no polling), Device.Users() re-read when a device changes, and Manager.Rebind/Restore with their a{sv} options.
 * The client runs as the logged-in user (no superuser): polkit decides, and its answer is shown as vfiod gave it.
 * Devices of every bus vfiod serves are shown, by bus; the page names a device to vfiod as BUS:NAME (Subsystem and
 * Address) and takes its object path from the ObjectManager, never building one.
 */
"use strict";

(function () {
    const BUS_NAME = "org.vfiod";
    const MANAGER_PATH = "/org/vfiod";
    const MANAGER = "org.vfiod1.Manager";
    const DEVICE = "org.vfiod1.Device";

    let client = null;
    let proxies = null;
    /* Device.Users() answers, by object path: absent until the first answer */
    const users = new Map();
    /* the error name when vfiod could not say who uses a device */
    const usersFailed = new Map();
    let dialog = null;
    let renderQueued = false;

    function el(tag, classes, text) {
        const e = document.createElement(tag);
        if (classes) e.className = classes;
        if (text !== undefined && text !== null) e.textContent = String(text);
        return e;
    }

    /* vfiod's own error name, short: org.vfiod1.Error.InUse -> InUse, ...DBus.Error.AccessDenied -> AccessDenied */
    function errorName(ex) {
        const name = (ex && (ex.name || ex.problem)) || "Failed";
        return String(name).replace(/^.*\.Error\./, "").replace(/^.*\./, "");
    }

    function errorAlert(ex, title) {
        const a = el("div", "pf-c-alert pf-m-danger pf-m-inline vfiod-error");
        a.setAttribute("data-error", errorName(ex));
        const t = el("p", "pf-c-alert__title");
        t.append(el("span", "pf-screen-reader", "Danger alert:"));
        t.append(el("strong", null, errorName(ex)));
        t.append(document.createTextNode(": " + (title ? title + ": " : "") + ((ex && ex.message) || String(ex))));
        a.append(t);
        return a;
    }

    function pageAlert(kind, text) {
        const box = document.getElementById("vfiod-alerts");
        const a = el("div", "pf-c-alert pf-m-inline pf-m-" + kind);
        a.append(el("p", "pf-c-alert__title", text));
        const close = el("button", "pf-c-button pf-m-plain vfiod-alert-close", "\u00d7");
        close.type = "button";
        close.setAttribute("aria-label", "Dismiss");
        close.addEventListener("click", () => a.remove());
        a.append(close);
        box.replaceChildren(a);
    }

    function label(text, color, kind) {
        const l = el("span", "pf-c-label pf-m-" + color + " vfiod-label");
        l.setAttribute("data-kind", kind);
        l.append(el("span", "pf-c-label__content", text));
        return l;
    }

    function devices() {
        if (!proxies) return [];
        return Object.keys(proxies).map(p => proxies[p]).filter(d => d && d.valid && d.Address);
    }

    /* what the Manager's methods take and what the page shows: a PCI device by its address, another bus's device as
     * BUS:NAME (platform:a000000.virtio_mmio) */
    function isPci(d) {
        return !d.Subsystem || d.Subsystem === "pci";
    }

    function ident(d) {
        return isPci(d) ? d.Address : d.Subsystem + ":" + d.Address;
    }

    const BUS_TITLES = { pci: "PCI", platform: "Platform", cdx: "CDX", "fsl-mc": "fsl-mc (DPAA2)", amba: "AMBA" };

    function busTitle(bus) {
        return BUS_TITLES[bus] || bus;
    }

    function deviceName(d) {
        const name = [d.Vendor, d.Product].filter(s => s).join(" ");
        if (name) return name;
        /* off PCI there are no ids: the modalias says what the device is (of:NvirtioT(null)Cvirtio,mmio) */
        return isPci(d) ? "PCI device " + hex4(d.VendorId) + ":" + hex4(d.DeviceId)
                        : busTitle(d.Subsystem) + " device " + (d.Modalias || d.Address);
    }

    function hex4(n) {
        return ("0000" + Number(n || 0).toString(16)).slice(-4);
    }

    function inUse(d) {
        return (users.get(d.path) || []).length > 0;
    }

    /* the endpoints Rebind may move: vfiod leaves bridges (PCI class 06 04) out of a group and knows no VFIO driver
     * for some devices */
    function movable(d) {
        return d.VfioDriver !== "" && !(isPci(d) && (d.Class >>> 8) === 0x0604);
    }

    /* [bus, [[group, devices]...]]...: PCI first, then the other buses by name; groups by number */
    function buses() {
        const byBus = new Map();
        for (const d of devices()) {
            const bus = d.Subsystem || "pci";
            if (!byBus.has(bus)) byBus.set(bus, new Map());
            const byGroup = byBus.get(bus);
            if (!byGroup.has(d.IommuGroup)) byGroup.set(d.IommuGroup, []);
            byGroup.get(d.IommuGroup).push(d);
        }
        const order = (a, b) => (a === "pci" ? -1 : b === "pci" ? 1 : a.localeCompare(b));
        return [...byBus.entries()].sort((a, b) => order(a[0], b[0])).map(([bus, byGroup]) => {
            for (const list of byGroup.values()) list.sort((a, b) => a.Address.localeCompare(b.Address));
            return [bus, [...byGroup.entries()].sort((a, b) => a[0] - b[0])];
        });
    }

    function scheduleRender() {
        if (renderQueued) return;
        renderQueued = true;
        window.requestAnimationFrame(() => {
            renderQueued = false;
            render();
        });
    }

    function actionButton(text, kind, onClick, disabledWhy) {
        const b = el("button", "pf-c-button pf-m-" + kind, text);
        b.type = "button";
        if (disabledWhy) {
            b.disabled = true;
            b.title = disabledWhy;
        } else {
            b.addEventListener("click", onClick);
        }
        return b;
    }

    function deviceActions(d) {
        const box = el("div", "vfiod-actions");
        if (d.State === "busy") {
            box.append(el("span", "vfiod-muted", "moving..."));
        } else if (d.State === "vfio") {
            const b = actionButton("Give back to the host", "secondary", () => openDialog(d, false, false));
            b.setAttribute("data-action", "restore");
            box.append(b);
        } else {
            const b = actionButton("Give to VMs", "secondary", () => openDialog(d, true, false),
                                   movable(d) ? null : "a bridge, or a device vfiod knows no VFIO driver for");
            b.setAttribute("data-action", "rebind");
            box.append(b);
        }
        return box;
    }

    function cell(tr, name, content) {
        const td = el("td", "vfiod-" + name.toLowerCase().replace(/[^a-z]+/g, "-"));
        td.setAttribute("data-label", name);
        if (content instanceof Node) td.append(content);
        else td.textContent = content;
        tr.append(td);
        return td;
    }

    function deviceRow(d) {
        const tr = el("tr");
        tr.setAttribute("data-address", ident(d));
        tr.setAttribute("data-bus", d.Subsystem || "pci");
        tr.setAttribute("data-state", d.State);
        const name = el("div");
        name.append(el("span", "vfiod-name", deviceName(d)));
        if (d.BootVga) name.append(label("Boot VGA", "orange", "boot-vga"));
        if (inUse(d)) name.append(label("In use", "red", "in-use"));
        if (d.Recovery) name.append(label("Recovered", "purple", "recovery"));
        cell(tr, "Device", name);
        cell(tr, "Address", ident(d));
        cell(tr, "Driver", d.Driver || "none");
        cell(tr, "VFIO driver", d.VfioDriver || "none");
        const state = el("span", "vfiod-state vfiod-state-" + d.State, d.State);
        cell(tr, "State", state);
        cell(tr, "Persistent", d.Persistent ? "yes" : "no");
        const u = users.get(d.path);
        const who = el("div", "vfiod-users");
        if (u === undefined && usersFailed.has(d.path)) who.textContent = "unknown (" + usersFailed.get(d.path) + ")";
        else if (u === undefined) who.textContent = "...";
        else if (u.length === 0) who.textContent = "nobody";
        else for (const line of u) who.append(el("div", null, line));
        cell(tr, "Used by", who);
        cell(tr, "Actions", deviceActions(d));
        return tr;
    }

    function groupCard(group, list) {
        const card = el("section", "pf-c-card vfiod-group");
        card.setAttribute("data-group", String(group));
        const head = el("div", "pf-c-card__header");
        const title = el("h2", "pf-c-card__title pf-c-title pf-m-lg",
                         group < 0 ? "No IOMMU group" : "IOMMU group " + group);
        head.append(title);
        const endpoints = list.filter(movable);
        if (group >= 0 && endpoints.length > 1) {
            const acts = el("div", "pf-c-card__actions vfiod-actions");
            const anyHost = endpoints.some(d => d.State !== "vfio");
            const anyVfio = endpoints.some(d => d.State === "vfio");
            const busy = list.some(d => d.State === "busy");
            const first = endpoints[0];
            if (anyHost) {
                const b = actionButton("Give group to VMs", "secondary", () => openDialog(first, true, true),
                                       busy ? "a move is under way" : null);
                b.setAttribute("data-action", "rebind-group");
                acts.append(b);
            }
            if (anyVfio) {
                const b = actionButton("Give group back to the host", "secondary",
                                       () => openDialog(endpoints.find(d => d.State === "vfio"), false, true),
                                       busy ? "a move is under way" : null);
                b.setAttribute("data-action", "restore-group");
                acts.append(b);
            }
            head.append(acts);
        }
        card.append(head);
        const body = el("div", "pf-c-card__body");
        const table = el("table", "pf-c-table pf-m-compact pf-m-grid-lg");
        table.setAttribute("role", "grid");
        table.setAttribute("aria-label", title.textContent);
        const thead = el("thead");
        const hr = el("tr");
        for (const h of ["Device", "Address", "Driver", "VFIO driver", "State", "Persistent", "Used by", ""]) {
            const th = el("th", "pf-m-wrap", h);
            th.setAttribute("scope", "col");
            hr.append(th);
        }
        thead.append(hr);
        table.append(thead);
        const tbody = el("tbody");
        for (const d of list) tbody.append(deviceRow(d));
        table.append(tbody);
        body.append(table);
        card.append(body);
        return card;
    }

    function busSection(bus, groups) {
        const section = el("section", "vfiod-bus");
        section.setAttribute("data-bus", bus);
        section.append(el("h2", "pf-c-title pf-m-xl vfiod-bus-title", busTitle(bus) + " devices"));
        section.append(...groups.map(([g, list]) => groupCard(g, list)));
        return section;
    }

    function render() {
        const box = document.getElementById("vfiod-groups");
        box.replaceChildren(...buses().map(([bus, groups]) => busSection(bus, groups)));
        if (dialog) refreshDialogList();
    }

    /* Who uses the device: a method (it reads /proc), asked when a device appears and again when it changes. One
     * call at a time: vfiod allows each uid 4 calls in flight, and a move of the same user must still get one. */
    const usersQueue = [];
    let usersRunning = false;

    function readUsers(d) {
        if (!usersQueue.includes(d.path)) usersQueue.push(d.path);
        pumpUsers();
    }

    function pumpUsers() {
        if (usersRunning || usersQueue.length === 0) return;
        const path = usersQueue.shift();
        usersRunning = true;
        let retry = false;
        client.call(path, DEVICE, "Users", [])
                .then(reply => {
                    /* a re-render replaces the rows under the pointer: only when something changed */
                    if (JSON.stringify(users.get(path)) !== JSON.stringify(reply[0]) || usersFailed.has(path)) {
                        users.set(path, reply[0]);
                        usersFailed.delete(path);
                        scheduleRender();
                    }
                })
                .catch(ex => {
                    /* Busy: this user's other calls took the allowance; ask again once one is over */
                    retry = errorName(ex) === "Busy" && proxies[path] !== undefined;
                    if (!retry) {
                        usersFailed.set(path, errorName(ex));
                        scheduleRender();
                    }
                })
                .finally(() => {
                    usersRunning = false;
                    if (retry) window.setTimeout(() => readUsers({ path: path }), 500);
                    else pumpUsers();
                });
    }

    /* ---- the dialog: options, the dry-run preview, then the move -------------------------------------------- */

    function groupOf(d) {
        return devices().filter(o => o.IommuGroup === d.IommuGroup && d.IommuGroup >= 0)
                .sort((a, b) => ident(a).localeCompare(ident(b)));
    }

    function options(dryRun) {
        const o = {};
        if (document.getElementById("vfiod-opt-group").checked) o.group = { t: "b", v: true };
        if (document.getElementById("vfiod-opt-persist").checked) o.persist = { t: "b", v: true };
        if (dryRun) o["dry-run"] = { t: "b", v: true };
        return o;
    }

    function openDialog(d, toVfio, wholeGroup) {
        dialog = { device: d, toVfio: toVfio, seq: 0, running: false };
        const verb = toVfio ? "Give to VMs" : "Give back to the host";
        document.getElementById("vfiod-dialog-title").textContent = verb + ": " + ident(d);
        const others = groupOf(d).filter(o => o.path !== d.path && movable(o));
        const g = document.getElementById("vfiod-opt-group");
        g.checked = wholeGroup;
        g.disabled = others.length === 0;
        document.getElementById("vfiod-opt-group-label").textContent = others.length === 0
            ? "The whole IOMMU group (this device is alone in it)"
            : "The whole IOMMU group " + d.IommuGroup + ", with " + others.map(ident).join(", ");
        const p = document.getElementById("vfiod-opt-persist");
        p.checked = false;
        document.getElementById("vfiod-opt-persist-label").textContent = toVfio
            ? "Persistent: give it to VMs again at every boot"
            : "Forget its persistent rule, so it stays on the host after a reboot";
        const apply = document.getElementById("vfiod-dialog-apply");
        apply.textContent = verb;
        document.getElementById("vfiod-dialog-error").replaceChildren();
        document.getElementById("vfiod-dialog").hidden = false;
        preview();
    }

    function closeDialog() {
        dialog = null;
        document.getElementById("vfiod-dialog").hidden = true;
    }

    /* The steps, as the devices' properties show them: each endpoint that would move, from its driver to the
     * target. The target of the device asked about is vfiod's own answer to the dry run. */
    function refreshDialogList() {
        const d = dialog.device;
        const answer = dialog.answer;
        const list = document.getElementById("vfiod-preview-steps");
        const all = document.getElementById("vfiod-opt-group").checked
            ? groupOf(d).filter(movable) : [d];
        const moving = all.filter(o => dialog.toVfio ? o.State !== "vfio" : o.State === "vfio");
        list.replaceChildren(...moving.map(o => {
            let target;
            if (dialog.toVfio) target = (o.path === d.path && answer) ? answer : (o.VfioDriver || "?");
            else target = (o.path === d.path && answer) ? answer : "its host driver";
            const li = el("li", "vfiod-step");
            li.setAttribute("data-address", ident(o));
            li.textContent = ident(o) + " (" + deviceName(o) + "): " + (o.Driver || "no driver") + " \u2192 " + target;
            return li;
        }));
    }

    function preview() {
        if (!dialog) return;
        const seq = ++dialog.seq;
        const d = dialog.device;
        const verdict = document.getElementById("vfiod-preview-verdict");
        const apply = document.getElementById("vfiod-dialog-apply");
        apply.disabled = true;
        verdict.replaceChildren(el("p", "vfiod-muted", "vfiod is checking..."));
        dialog.answer = undefined;
        refreshDialogList();
        client.call(MANAGER_PATH, MANAGER, dialog.toVfio ? "Rebind" : "Restore", [ident(d), options(true)],
                    { type: "sa{sv}" })
                .then(reply => {
                    if (!dialog || seq !== dialog.seq) return;
                    dialog.answer = reply[0];
                    refreshDialogList();
                    const ok = el("div", "pf-c-alert pf-m-success pf-m-inline vfiod-verdict");
                    ok.setAttribute("data-verdict", "ok");
                    ok.append(el("p", "pf-c-alert__title", "vfiod would do this: " + ident(d) + " ends on " +
                                 (reply[0] || "no driver") + ". Nothing has moved yet."));
                    verdict.replaceChildren(ok);
                    apply.disabled = dialog.running;
                })
                .catch(ex => {
                    if (!dialog || seq !== dialog.seq) return;
                    const a = errorAlert(ex, "vfiod refuses");
                    a.setAttribute("data-verdict", "refused");
                    verdict.replaceChildren(a);
                    /* a forced move is for vfioctl, where the admin names what is taken */
                    apply.disabled = true;
                });
    }

    function apply() {
        if (!dialog || dialog.running) return;
        const d = dialog.device;
        const method = dialog.toVfio ? "Rebind" : "Restore";
        dialog.running = true;
        const button = document.getElementById("vfiod-dialog-apply");
        button.disabled = true;
        document.getElementById("vfiod-dialog-error").replaceChildren(el("p", "vfiod-muted", "moving..."));
        client.call(MANAGER_PATH, MANAGER, method, [ident(d), options(false)], { type: "sa{sv}" })
                .then(reply => {
                    pageAlert("success", ident(d) + (method === "Rebind" ? " was given to VMs: " : " is back on the host: ") +
                              "it is on " + (reply[0] || "no driver") + ".");
                    closeDialog();
                })
                .catch(ex => {
                    if (!dialog) return;
                    dialog.running = false;
                    const box = document.getElementById("vfiod-dialog-error");
                    box.replaceChildren(errorAlert(ex, method + " " + ident(d)));
                    button.disabled = false;
                });
    }

    /* ---- start ---------------------------------------------------------------------------------------------- */

    function start() {
        client = cockpit.dbus(BUS_NAME, { bus: "system" });
        proxies = client.proxies(DEVICE, MANAGER_PATH);
        proxies.addEventListener("added", (ev, proxy) => {
            readUsers(proxy);
            scheduleRender();
        });
        proxies.addEventListener("changed", (ev, proxy) => {
            readUsers(proxy);
            scheduleRender();
        });
        proxies.addEventListener("removed", (ev, proxy) => {
            users.delete(proxy.path);
            usersFailed.delete(proxy.path);
            scheduleRender();
        });
        proxies.wait(() => {
            document.getElementById("vfiod-loading").hidden = true;
            for (const d of devices()) if (!users.has(d.path)) readUsers(d);
            scheduleRender();
        });
        client.addEventListener("close", (ev, options) => {
            document.getElementById("vfiod-loading").hidden = true;
            pageAlert("danger", "vfiod cannot be reached on the system bus" +
                      (options && options.problem ? " (" + options.problem + ")" : "") + ".");
        });

        document.getElementById("vfiod-opt-group").addEventListener("change", preview);
        document.getElementById("vfiod-opt-persist").addEventListener("change", preview);
        document.getElementById("vfiod-dialog-apply").addEventListener("click", apply);
        document.getElementById("vfiod-dialog-cancel").addEventListener("click", closeDialog);
        document.getElementById("vfiod-dialog-close").addEventListener("click", closeDialog);
        document.addEventListener("keydown", ev => {
            if (ev.key === "Escape" && dialog && !dialog.running) closeDialog();
        });
    }

    document.addEventListener("DOMContentLoaded", start);
}());
