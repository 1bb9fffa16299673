#!/usr/bin/python3
"""The dashboard's consent for a quorum queue, in headless Chromium (selenium + chromedriver).

Run by tests/integration/test_serve.sh against a running server:
  SERVE_URL (the URL line, with the token), SERVE_QUEUE (a quorum dead-letter queue holding
  SERVE_COUNT messages of one group, with a delivery limit of SERVE_LIMIT).
Opens the queue twice without consent (the page shows the warning, naming the limit, and the
button "Read anyway (raises delivery counts)"; nothing is read), then gives consent once: the
groups are read (one read: the messages are not read with them). Prints PASS/FAIL lines and
"N passed, N failed"; exits 1 on a failure.
"""
import os
import sys
import tempfile

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait

URL = os.environ["SERVE_URL"]
QUEUE = os.environ["SERVE_QUEUE"]
COUNT = os.environ["SERVE_COUNT"]
LIMIT = os.environ["SERVE_LIMIT"]
passed = failed = 0


def check(name, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print("PASS browser (quorum): " + name)
    else:
        failed += 1
        print("FAIL browser (quorum): " + name + ("\n  " + str(detail) if detail else ""))


def open_queue(driver, wait):
    sel = '#overview-table tbody tr[data-queue="%s"] button.open-queue' % QUEUE

    def click(d):  # the overview refreshes: a button found may be replaced before the click
        try:
            b = d.find_elements(By.CSS_SELECTOR, sel)
            if b and b[0].is_displayed():
                b[0].click()
                return True
        except StaleElementReferenceException:
            pass
        return False
    wait.until(click)
    return wait.until(EC.presence_of_element_located(
        (By.CSS_SELECTOR, "#queue-warnings li.consent button.read-anyway")))


def run(driver, wait):
    driver.get(URL)
    for n in (1, 2):
        button = open_queue(driver, wait)
        prompt = driver.find_element(By.CSS_SELECTOR, "#queue-warnings li.consent").text
        check("open %d without consent: the warning names the delivery limit" % n,
              ("delivery limit is %s" % LIMIT) in prompt and "nothing was read" in prompt, prompt)
        check("open %d: the button says what it costs" % n,
              button.text == "Read anyway (raises delivery counts)", button.text)
        check("open %d: no group, no message shown" % n,
              not driver.find_elements(By.CSS_SELECTOR, "#groups-table tr.group")
              and not driver.find_elements(By.CSS_SELECTOR, "#messages-table tr.msg"))
        if n == 1:
            driver.find_element(By.ID, "back").click()
    button.click()
    wait.until(EC.presence_of_element_located((By.CSS_SELECTOR, "#groups-table tr.group")))
    counts = [c.text for c in driver.find_elements(By.CSS_SELECTOR, "#groups-table td.gcount")]
    check("with consent: the groups are read", counts == [COUNT], counts)
    check("with consent: the warning is still shown",
          any("raises each message" in li.text for li in
              driver.find_elements(By.CSS_SELECTOR, "#queue-warnings li")))
    check("one read per open: the messages are not read with the groups",
          not driver.find_elements(By.CSS_SELECTOR, "#messages-table tr.msg"))


def main():
    profile = tempfile.mkdtemp(prefix="rmqtopo-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for a in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
              "--window-size=1500,1100", "--user-data-dir=" + profile, "--no-first-run",
              "--disable-extensions", "--disable-background-networking"):
        opts.add_argument(a)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    try:
        run(driver, WebDriverWait(driver, 60))
    finally:
        driver.quit()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
