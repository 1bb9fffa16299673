#!/usr/bin/python3
"""The dashboard of `rmqtopo dlq serve` in headless Chromium (selenium + Debian's chromedriver).

Run by tests/integration/test_serve.sh against a running server:
  SERVE_URL (the URL line, with the token), SERVE_VHOST, SERVE_QUEUE (the dead-letter queue,
  holding a group (work.a, rejected) and the hostile message '<b>xss-1</b>'), SERVE_LOG_DIR
  (screenshots go there).
Loads the page with the token, opens the queue, opens messages (the hostile one shows its
bytes as text: no element made from them, no script run), previews and replays a group and
reads the summary. Prints PASS/FAIL lines and "N passed, N failed"; exits 1 on a failure.
"""
import os
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ["SERVE_URL"]
QUEUE = os.environ["SERVE_QUEUE"]
LOGS = os.environ.get("SERVE_LOG_DIR", ".")
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS browser: " + name)
    else:
        failed += 1
        print("FAIL browser: " + name + ("\n  " + str(detail) if detail else ""))


def shot(driver, name):
    path = os.path.join(LOGS, name)
    driver.save_screenshot(path)
    print("  screenshot: " + path)


def main():
    profile = tempfile.mkdtemp(prefix="rmqtopo-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1500,1100", "--user-data-dir=" + profile, "--no-first-run",
              "--disable-extensions", "--disable-background-networking"):
        opts.add_argument(a)
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    wait = WebDriverWait(driver, 60)
    try:
        run(driver, wait)
    finally:
        try:
            logs = driver.get_log("browser")
        except Exception:  # noqa: BLE001 - the log is a nice-to-have
            logs = []
        errors = [l["message"] for l in logs if l.get("level") == "SEVERE"
                  and "Content Security Policy" not in l["message"]]
        check("no script error in the console", not errors, errors)
        driver.quit()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


def run(driver, wait):
    # 1. the page with the token: redirected to / with the cookie, the token gone from the URL
    driver.get(URL)
    wait.until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, '#overview-table tbody tr[data-queue] button.open-queue')))
    check("the token leaves the address bar", "token=" not in driver.current_url,
          driver.current_url)
    cookie = [c for c in driver.get_cookies() if c["name"].startswith("rmqtopo_")]
    check("the token is an HttpOnly SameSite=Strict cookie",
          len(cookie) == 1 and cookie[0]["httpOnly"] and cookie[0].get("sameSite") == "Strict",
          cookie)
    check("document.cookie cannot read it", driver.execute_script("return document.cookie") == "")
    rows = driver.find_elements(By.CSS_SELECTOR, "#overview-table tbody tr[data-queue]")
    row = [r for r in rows if r.get_attribute("data-queue") == QUEUE]
    check("the overview lists the dead-letter queue", len(row) == 1,
          [r.text for r in rows])
    shot(driver, "dashboard-overview.png")

    # 2. open the queue: its groups and messages
    row[0].find_element(By.CSS_SELECTOR, "button.open-queue").click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#groups-table tbody tr.group")))
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#messages-table tbody tr.msg")))
    groups = {g.find_element(By.CSS_SELECTOR, ".gqueue").text:
              int(g.find_element(By.CSS_SELECTOR, ".gcount").text)
              for g in driver.find_elements(By.CSS_SELECTOR, "#groups-table tbody tr.group")}
    check("the groups by (queue died in, reason)", groups.get("work.a", 0) > 0
          and "(no x-death)" in groups, groups)
    n_group = groups.get("work.a", 0)
    shot(driver, "dashboard-queue.png")

    # 3. the hostile message: its bytes are text
    links = driver.find_elements(By.CSS_SELECTOR, "#messages-table a.open-message")
    xss = [a for a in links if a.text == "<b>xss-1</b>"]
    check("a message id with markup shows as its characters", len(xss) == 1,
          [a.text for a in links][:5])
    if xss:
        xss[0].click()
        wait.until(EC.visibility_of_element_located((By.ID, "detail")))
        body = driver.find_element(By.ID, "detail-body").text
        check("a body of <img src=x onerror=...> shows as those characters",
              body == "<img src=x onerror=window.__xss=3>", body)
        keys = [k.text for k in driver.find_elements(By.CSS_SELECTOR, "#detail-headers td.hkey")]
        vals = [v.text for v in driver.find_elements(By.CSS_SELECTOR, "#detail-headers td.hval")]
        check("a header key with markup shows as text", "<i>k</i>" in keys, keys)
        check("header values with markup show as text",
              "<script>window.__xss=1</script>" in vals
              and "<img src=x onerror=window.__xss=2>" in vals, vals)
        shot(driver, "dashboard-xss.png")
    check("no element was made from message bytes (no img, no b, no i, no inline script)",
          driver.execute_script(
              "return document.querySelectorAll('img, b, i, main script').length") == 0)
    check("no script from a message ran", driver.execute_script("return window.__xss") is None)

    # 4. an ordinary message: its x-death history and typed headers
    driver.find_element(By.ID, "close-detail").click()
    ordinary = [a for a in driver.find_elements(By.CSS_SELECTOR, "#messages-table a.open-message")
                if a.text.startswith("rej-a-")]
    check("the group's messages are listed", len(ordinary) == n_group, len(ordinary))
    if ordinary:
        ordinary[0].click()
        wait.until(EC.visibility_of_element_located((By.ID, "detail")))
        xd = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#detail-xdeath tbody tr")]
        check("a message's x-death history", len(xd) == 1 and "work.a" in xd[0]
              and "rejected" in xd[0], xd)
        hdr = driver.find_element(By.ID, "detail-headers").text
        check("a message's typed headers", "h-long i64" in hdr and "timestamp" in hdr, hdr[:300])
        shot(driver, "dashboard-message.png")
        driver.find_element(By.ID, "close-detail").click()

    # 5. replay the group: preview first, then confirm; the summary
    btn = [g.find_element(By.CSS_SELECTOR, "button.group-replay")
           for g in driver.find_elements(By.CSS_SELECTOR, "#groups-table tbody tr.group")
           if g.find_element(By.CSS_SELECTOR, ".gqueue").text == "work.a"]
    btn[0].click()
    wait.until(EC.visibility_of_element_located((By.ID, "action")))
    check("the action starts unconfirmed", not driver.find_element(By.ID, "action-confirm").is_enabled())
    driver.find_element(By.ID, "action-preview").click()
    wait.until(EC.element_to_be_clickable((By.ID, "action-confirm")))
    targets = [r.text for r in driver.find_elements(By.CSS_SELECTOR, "#job-targets tr.target")]
    check("the preview says how many go where", any(
        t.startswith("replay queue work.a %d" % n_group) for t in targets), targets)
    check("the preview's summary (the CLI's: would_move)",
          driver.find_element(By.CSS_SELECTOR, "#job-summary .summary-would_move").text
          == str(n_group))
    shot(driver, "dashboard-preview.png")
    driver.find_element(By.ID, "action-confirm").click()
    wait.until(lambda d: d.find_element(By.ID, "job-state").text in ("done", "failed", "cancelled")
               and "(preview)" not in d.find_element(By.ID, "job-id").text
               and d.find_elements(By.CSS_SELECTOR, "#job-summary .summary-moved"))
    state = driver.find_element(By.ID, "job-state").text
    moved = driver.find_element(By.CSS_SELECTOR, "#job-summary .summary-moved").text
    ok = driver.find_element(By.CSS_SELECTOR, "#job-summary .summary-ok").text
    check("the replay ran: done, ok, every message of the group moved",
          (state, ok, moved) == ("done", "true", str(n_group)), (state, ok, moved))
    # the groups are read again after the run: the group is gone
    wait.until(lambda d: "work.a" not in [g.text for g in d.find_elements(
        By.CSS_SELECTOR, "#groups-table tbody td.gqueue")])
    wait.until(lambda d: not [a for a in d.find_elements(
        By.CSS_SELECTOR, "#messages-table a.open-message") if a.text.startswith("rej-a-")])
    check("after the run the page reads the queue again: the group's messages are gone", True)
    driver.execute_script("window.scrollTo(0, 0)")
    shot(driver, "dashboard-summary.png")
    driver.set_window_size(1500, 1700)
    shot(driver, "dashboard.png")


if __name__ == "__main__":
    sys.exit(main())
