#!/usr/bin/python3
"""The vfiod Cockpit page in headless Chromium, as its users would use it (run by test-cockpit.sh, which starts
the system bus, polkitd, vfiod on a simulated sysfs and cockpit-ws).

Each test logs in through Cockpit's real login page as a test user (vfiod-member: polkit lets group vfio move
devices; vfiod-outsider: polkit refuses), opens the page, and checks it against vfiod (busctl) and the simulated
sysfs. The browser's console is read before and after each test: any error fails it. A screenshot is taken at each
step into --screenshots.
"""
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import traceback

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

NIC = "0000:03:00.0"
GPU = "0000:01:00.0"
AUDIO = "0000:01:00.1"
XGMAC = "platform:fff51000.ethernet"  # SimulatedSysfs.withOtherBuses: a platform device with a reset
MEMBER = "vfiod-member"
OUTSIDER = "vfiod-outsider"
# the machine is shared and Chromium under load is slow: generous, but each wait is on a condition
WAIT = 120


class Failure(AssertionError):
    pass


def check(cond, message):
    if not cond:
        raise Failure(message)


class Vfiod:
    """vfiod as busctl sees it, and the simulated kernel beneath it."""

    def __init__(self, bus, sysfs):
        self.bus = bus
        self.sysfs = sysfs

    def busctl(self, *args):
        out = subprocess.run(["busctl", "--address=" + self.bus, "--json=short", *args], check=True,
                             capture_output=True, text=True, timeout=60).stdout
        return json.loads(out)["data"]

    def devices(self):
        """{device: group} from ListDevices and each device's properties; a device as the page names it, a PCI
        device by its address, another bus's as bus:name"""
        paths = self.busctl("call", "org.vfiod", "/org/vfiod", "org.vfiod1.Manager", "ListDevices")[0]
        check(len(paths) > 0, "ListDevices is empty")
        return {self.ident(p): self.prop(p, "IommuGroup") for p in paths}

    def ident(self, path):
        bus, name = self.prop(path, "Subsystem"), self.prop(path, "Address")
        return name if bus == "pci" else bus + ":" + name

    def prop(self, path, name):
        return self.busctl("get-property", "org.vfiod", path, "org.vfiod1.Device", name)

    def path(self, address):
        """the device's object path as vfiod gives it: clients never build one"""
        return self.busctl("call", "org.vfiod", "/org/vfiod", "org.vfiod1.Manager", "DeviceByAddress", "s", address)[0]

    def kernel_driver(self, address):
        link = os.path.join(self.sysfs, "bus/pci/devices", address, "driver")
        return os.path.basename(os.path.realpath(link)) if os.path.lexists(link) else ""

    def kernel_state(self):
        """every device's driver and driver_override: what a move changes"""
        state = {}
        base = os.path.join(self.sysfs, "bus/pci/devices")
        for a in sorted(os.listdir(base)):
            with open(os.path.join(base, a, "driver_override")) as f:
                state[a] = (self.kernel_driver(a), f.read())
        return state


class Browser:
    def __init__(self, url, shots):
        self.url = url
        self.shots = shots
        self.step = 0
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for a in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                  "--window-size=1280,1000", "--lang=en-US"):
            options.add_argument(a)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.driver.set_page_load_timeout(WAIT)

    def close(self):
        self.driver.quit()

    def shot(self, name, back_to_page=True):
        self.step += 1
        path = os.path.join(self.shots, "%02d-%s.png" % (self.step, name))
        self.driver.switch_to.default_content()
        self.driver.save_screenshot(path)
        if back_to_page:
            self.enter_page()
        print("  screenshot " + path)

    def console_errors(self):
        """the console's errors since the last call (reading the log empties it)"""
        return [e for e in self.driver.get_log("browser") if e.get("level") == "SEVERE"]

    def wait(self, what, cond, timeout=WAIT):
        def safe(d):
            try:
                return cond(d)
            except StaleElementReferenceException:
                return False
        try:
            return WebDriverWait(self.driver, timeout, poll_frequency=0.25).until(safe)
        except TimeoutException:
            raise Failure("waited %d s for %s" % (timeout, what))

    def login(self, user, password):
        d = self.driver
        d.get(self.url + "/vfiod")
        self.wait("the login page", lambda d: d.find_element(By.ID, "login-user-input").is_displayed())
        # The login page asks /cockpit/login first to learn whether a session exists; its 401 is how the answer
        # "no" comes, logged by the browser as a failed resource. Anything else is an error.
        self.login_errors = [e for e in self.console_errors()
                             if not (e.get("source") == "network" and "/cockpit/login - " in e.get("message", "")
                                     and " 401 " in e.get("message", ""))]
        d.find_element(By.ID, "login-user-input").send_keys(user)
        d.find_element(By.ID, "login-password-input").send_keys(password)
        self.driver.save_screenshot(os.path.join(self.shots, "00-login-%s.png" % user))
        d.find_element(By.ID, "login-button").click()
        self.wait("the shell after logging in as " + user,
                  lambda d: d.find_elements(By.CSS_SELECTOR, "iframe[name='cockpit1:localhost/vfiod']"))
        self.enter_page()

    def enter_page(self):
        d = self.driver
        d.switch_to.default_content()
        frame = self.wait("the page's frame",
                          lambda d: d.find_element(By.CSS_SELECTOR, "iframe[name='cockpit1:localhost/vfiod']"))
        d.switch_to.frame(frame)

    def rows(self):
        """{device: group} as the page shows them"""
        out = {}
        for section in self.driver.find_elements(By.CSS_SELECTOR, "section[data-group]"):
            g = int(section.get_attribute("data-group"))
            for tr in section.find_elements(By.CSS_SELECTOR, "tr[data-address]"):
                out[tr.get_attribute("data-address")] = g
        return out

    def buses(self):
        """{device: bus} by the bus section each row is in"""
        out = {}
        for section in self.driver.find_elements(By.CSS_SELECTOR, "section.vfiod-bus[data-bus]"):
            for tr in section.find_elements(By.CSS_SELECTOR, "tr[data-address]"):
                out[tr.get_attribute("data-address")] = section.get_attribute("data-bus")
        return out

    def row(self, address):
        return self.driver.find_element(By.CSS_SELECTOR, "tr[data-address='%s']" % address)

    def cell(self, address, label):
        return self.row(address).find_element(By.CSS_SELECTOR, "td[data-label='%s']" % label).text

    def click(self, what, find):
        """clicks what find(driver) returns once it is there; the page re-renders rows as signals arrive, so a
        stale element is looked up again"""
        def attempt(d):
            e = find(d)
            if not e.is_enabled():
                return False
            d.execute_script("arguments[0].scrollIntoView({block: 'center'});", e)
            e.click()
            return True
        self.wait("a click on " + what, attempt)


def open_page(b, vfiod, user, password):
    b.login(user, password)
    expected = vfiod.devices()
    b.wait("a row for each of vfiod's %d devices" % len(expected), lambda d: len(b.rows()) == len(expected))
    # Users() answers arrive after the rows
    b.wait("every device's users", lambda d: "..." not in [b.cell(a, "Used by") for a in expected])
    # before the test's actions: logging in and loading the page left no error in the console
    errors = b.login_errors + b.console_errors()
    check(not errors, "JavaScript console errors after opening the page: %s" % errors)
    return expected


def test_page_shows_what_vfiod_lists(b, vfiod, password):
    expected = open_page(b, vfiod, MEMBER, password)
    b.shot("devices-by-group")
    check(b.rows() == expected, "the page shows %s, ListDevices and IommuGroup say %s" % (b.rows(), expected))
    # each device under its bus's heading, PCI first
    shown = b.buses()
    for a in expected:
        check(shown.get(a) == vfiod.prop(vfiod.path(a), "Subsystem"), "%s is under the bus %s" % (a, shown.get(a)))
    order = [s.get_attribute("data-bus") for s in b.driver.find_elements(By.CSS_SELECTOR, "section.vfiod-bus")]
    check(order and order[0] == "pci" and len(order) == len(set(order)), "one section per bus, PCI first: %s" % order)
    print("  buses shown: %s" % order)
    for a in expected:
        p = vfiod.path(a)
        check(b.cell(a, "Address") == a, a + ": the address shown is " + b.cell(a, "Address"))
        check(b.cell(a, "Driver") == (vfiod.prop(p, "Driver") or "none"), a + ": driver")
        check(b.cell(a, "VFIO driver") == (vfiod.prop(p, "VfioDriver") or "none"), a + ": VFIO driver")
        check(b.cell(a, "State") == vfiod.prop(p, "State"), a + ": state")
        boot = bool(b.row(a).find_elements(By.CSS_SELECTOR, "[data-kind='boot-vga']"))
        check(boot == vfiod.prop(p, "BootVga"), a + ": the Boot VGA mark is %s, BootVga %s" % (boot, not boot))
    check(any(vfiod.prop(vfiod.path(a), "BootVga") for a in expected), "the sample machine has a boot VGA device")
    # a phone's width: the table turns into a grid of labelled cells, still all there
    b.driver.set_window_size(390, 844)
    b.wait("the rows at phone width", lambda d: b.row(NIC).is_displayed())
    b.shot("phone-width")
    b.driver.set_window_size(1280, 1000)


def verdict(b):
    """the dry run's verdict in the dialog, once it is there: 'ok' or vfiod's error name"""
    e = b.wait("the dry run's verdict", lambda d: d.find_element(By.CSS_SELECTOR, "#vfiod-preview-verdict [data-verdict]"))
    return "ok" if e.get_attribute("data-verdict") == "ok" else e.get_attribute("data-error")


def test_dry_run_names_the_group_and_the_boot_gpu(b, vfiod, password):
    open_page(b, vfiod, MEMBER, password)
    before = vfiod.kernel_state()
    # the GPU alone: its audio function shares the group, and vfiod says so before anything moves
    b.click("the GPU's Give to VMs", lambda d: b.row(GPU).find_element(By.CSS_SELECTOR, "button[data-action='rebind']"))
    check(verdict(b) == "GroupNotViable", "the GPU alone: " + verdict(b))
    alert = b.driver.find_element(By.CSS_SELECTOR, "#vfiod-preview-verdict [data-error]").text
    check(AUDIO in alert, "vfiod's message names the audio function: " + alert)
    check(not b.driver.find_element(By.ID, "vfiod-dialog-apply").is_enabled(), "a refused preview cannot be applied")
    b.shot("gpu-alone-group-not-viable")
    # with the whole group: both functions in the preview, and vfiod agrees
    b.click("the group option", lambda d: d.find_element(By.ID, "vfiod-opt-group"))
    b.wait("the group's verdict", lambda d: verdict(b) == "ok")
    steps = [li.get_attribute("data-address") for li in b.driver.find_elements(By.CSS_SELECTOR, "#vfiod-preview-steps li")]
    check(steps == [GPU, AUDIO], "the preview moves the GPU and its audio function: %s" % steps)
    b.shot("gpu-group-preview")
    b.click("Cancel", lambda d: d.find_element(By.ID, "vfiod-dialog-cancel"))
    # the boot GPU: marked, and vfiod's InUse in the preview
    boot = [a for a in vfiod.devices() if vfiod.prop(vfiod.path(a), "BootVga")][0]
    b.click("the boot GPU's Give to VMs", lambda d: b.row(boot).find_element(By.CSS_SELECTOR, "button[data-action='rebind']"))
    check(verdict(b) == "InUse", "the boot GPU: " + verdict(b))
    b.shot("boot-gpu-in-use")
    b.click("Cancel", lambda d: d.find_element(By.ID, "vfiod-dialog-cancel"))
    check(vfiod.kernel_state() == before, "dry runs changed sysfs")


def test_member_gives_the_nic_to_vms_and_back(b, vfiod, password):
    open_page(b, vfiod, MEMBER, password)
    check(vfiod.kernel_driver(NIC) == "e1000e", "the NIC starts on e1000e, not " + vfiod.kernel_driver(NIC))
    b.click("Give to VMs", lambda d: b.row(NIC).find_element(By.CSS_SELECTOR, "button[data-action='rebind']"))
    b.wait("the dry run's verdict", lambda d: d.find_element(By.CSS_SELECTOR, "#vfiod-preview-verdict [data-verdict='ok']"))
    steps = [li.text for li in b.driver.find_elements(By.CSS_SELECTOR, "#vfiod-preview-steps li")]
    # the target is vfiod's own dry-run answer (the module's name while vfio-pci is not loaded)
    target = vfiod.busctl("call", "org.vfiod", "/org/vfiod", "org.vfiod1.Manager", "Rebind", "sa{sv}", NIC, "1",
                          "dry-run", "b", "true")[0]
    check(len(steps) == 1 and steps[0].startswith(NIC) and ("e1000e \u2192 " + target) in steps[0],
          "the preview shows the NIC going from e1000e to %s: %s" % (target, steps))
    check(vfiod.kernel_driver(NIC) == "e1000e", "the dry run moved nothing")
    b.shot("give-to-vms-preview")
    b.click("the dialog's button", lambda d: d.find_element(By.ID, "vfiod-dialog-apply"))
    b.wait("the NIC on vfio on the page", lambda d: b.row(NIC).get_attribute("data-state") == "vfio")
    check(b.cell(NIC, "Driver") == "vfio-pci", "the page shows driver " + b.cell(NIC, "Driver"))
    check(vfiod.kernel_driver(NIC) == "vfio-pci", "sysfs shows " + vfiod.kernel_driver(NIC))
    b.shot("given-to-vms")
    b.click("Give back to the host",
            lambda d: b.row(NIC).find_element(By.CSS_SELECTOR, "button[data-action='restore']"))
    b.wait("the Restore dry run's verdict",
           lambda d: d.find_element(By.CSS_SELECTOR, "#vfiod-preview-verdict [data-verdict='ok']"))
    b.shot("give-back-preview")
    b.click("the dialog's button", lambda d: d.find_element(By.ID, "vfiod-dialog-apply"))
    b.wait("the NIC back on the host on the page", lambda d: b.row(NIC).get_attribute("data-state") == "host")
    check(b.cell(NIC, "Driver") == "e1000e", "the page shows driver " + b.cell(NIC, "Driver"))
    check(vfiod.kernel_driver(NIC) == "e1000e", "sysfs shows " + vfiod.kernel_driver(NIC))
    b.shot("given-back")


def test_member_gives_a_platform_device_to_vms_and_back(b, vfiod, password):
    """a device of another bus: named bus:name on the page and to vfiod, moved to the bus's fallback driver"""
    open_page(b, vfiod, MEMBER, password)
    check(b.row(XGMAC).get_attribute("data-bus") == "platform", "the platform device is under the platform heading")
    path = vfiod.path(XGMAC)
    check(path == "/org/vfiod/devices/platform_fff51000_2eethernet", "DeviceByAddress %s answers %s" % (XGMAC, path))
    check(vfiod.prop(path, "Driver") == "calxedaxgmac", "it starts on calxedaxgmac")
    b.click("its Give to VMs", lambda d: b.row(XGMAC).find_element(By.CSS_SELECTOR, "button[data-action='rebind']"))
    b.wait("the dry run's verdict", lambda d: d.find_element(By.CSS_SELECTOR, "#vfiod-preview-verdict [data-verdict='ok']"))
    steps = [li.get_attribute("data-address") for li in b.driver.find_elements(By.CSS_SELECTOR, "#vfiod-preview-steps li")]
    check(steps == [XGMAC], "the preview moves %s: %s" % (XGMAC, steps))
    b.shot("platform-preview")
    b.click("the dialog's button", lambda d: d.find_element(By.ID, "vfiod-dialog-apply"))
    b.wait("the platform device on vfio on the page", lambda d: b.row(XGMAC).get_attribute("data-state") == "vfio")
    check(b.cell(XGMAC, "Driver") == "vfio-platform", "the page shows driver " + b.cell(XGMAC, "Driver"))
    check(vfiod.prop(path, "Driver") == "vfio-platform", "vfiod says " + vfiod.prop(path, "Driver"))
    b.click("Give back to the host",
            lambda d: b.row(XGMAC).find_element(By.CSS_SELECTOR, "button[data-action='restore']"))
    b.wait("the Restore dry run's verdict",
           lambda d: d.find_element(By.CSS_SELECTOR, "#vfiod-preview-verdict [data-verdict='ok']"))
    b.click("the dialog's button", lambda d: d.find_element(By.ID, "vfiod-dialog-apply"))
    b.wait("the platform device back on the host", lambda d: b.row(XGMAC).get_attribute("data-state") == "host")
    check(vfiod.prop(path, "Driver") == "calxedaxgmac", "vfiod says " + vfiod.prop(path, "Driver"))
    b.shot("platform-given-back")


def test_outsider_sees_the_denial_and_nothing_moves(b, vfiod, password):
    open_page(b, vfiod, OUTSIDER, password)
    check(vfiod.kernel_driver(NIC) == "e1000e", "the NIC starts on e1000e, not " + vfiod.kernel_driver(NIC))
    before = vfiod.kernel_state()
    b.click("Give to VMs", lambda d: b.row(NIC).find_element(By.CSS_SELECTOR, "button[data-action='rebind']"))
    # a dry run needs no authorization: the outsider sees what would happen
    b.wait("the dry run's verdict", lambda d: d.find_element(By.CSS_SELECTOR, "#vfiod-preview-verdict [data-verdict='ok']"))
    b.click("the dialog's button", lambda d: d.find_element(By.ID, "vfiod-dialog-apply"))
    alert = b.wait("the denial", lambda d: d.find_element(By.CSS_SELECTOR, "#vfiod-dialog-error [data-error]"))
    check(alert.get_attribute("data-error") == "AccessDenied", "the error shown is " + alert.get_attribute("data-error"))
    check("AccessDenied" in alert.text, "the alert names AccessDenied: " + alert.text)
    b.shot("outsider-denied")
    check(b.row(NIC).get_attribute("data-state") == "host", "the page still shows the NIC on the host")
    check(vfiod.kernel_state() == before, "sysfs changed after a denied Rebind: %s -> %s" % (before, vfiod.kernel_state()))
    check(vfiod.prop(vfiod.path(NIC), "State") == "host", "vfiod says the NIC is on the host")


TESTS = [test_page_shows_what_vfiod_lists, test_dry_run_names_the_group_and_the_boot_gpu,
         test_member_gives_the_nic_to_vms_and_back, test_member_gives_a_platform_device_to_vms_and_back,
         test_outsider_sees_the_denial_and_nothing_moves]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--bus", required=True)
    ap.add_argument("--sysfs", required=True)
    ap.add_argument("--screenshots", required=True)
    args = ap.parse_args()
    password = os.environ["VFIOD_TEST_PASSWORD"]
    # stopped from outside (test-cockpit.sh's trap, a timeout): unwind, so the finally below quits the browser
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    vfiod = Vfiod(args.bus, args.sysfs)
    passed = failed = 0
    for test in TESTS:
        name = test.__name__
        print(name)
        shots = os.path.join(args.screenshots, name)
        os.makedirs(shots, exist_ok=True)
        b = Browser(args.url, shots)
        started = time.monotonic()
        try:
            test(b, vfiod, password)
            late = b.console_errors()
            check(not late, "JavaScript console errors during the test: %s" % late)
            passed += 1
            print("  ok (%.1f s)" % (time.monotonic() - started))
        except Exception:
            failed += 1
            traceback.print_exc()
            try:
                b.shot("failure", back_to_page=False)
                print("  console: %s" % b.driver.get_log("browser"))
            except Exception as e:
                print("  no screenshot of the failure: %s" % e)
        finally:
            b.close()
    print("test_page: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
