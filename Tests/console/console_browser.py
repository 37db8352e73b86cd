"""The console in a real browser: headless Chromium from Debian driven by Selenium through the system's
chromedriver (nothing downloaded). Run by Tests/otaTests/ConsoleBrowserTests.swift with a JSON argument:
base, chromium, chromedriver, screenshots, operator/viewer names and password, file id, things to update,
thing to leave waiting. Prints one line per step; exits non-zero with the reason at the first failure."""

import json
import os
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

config = json.loads(sys.argv[1])
base = config["base"]
options = webdriver.ChromeOptions()
options.binary_location = config["chromium"]
for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                 "--ignore-certificate-errors", "--window-size=1280,1000"):
    options.add_argument(argument)
driver = webdriver.Chrome(service=Service(config["chromedriver"]), options=options)


def step(text):
    print("step:", text, flush=True)


def shot(name):
    driver.save_screenshot(os.path.join(config["screenshots"], name + ".png"))


def check(condition, message):
    if not condition:
        shot("failure")
        raise AssertionError(message + " (at " + driver.current_url + ")")


def wait(predicate, seconds, message):
    try:
        WebDriverWait(driver, seconds, poll_frequency=0.5).until(lambda _: predicate())
    except Exception:
        check(False, message)


def count(status):
    return driver.find_element(By.CSS_SELECTOR, '[data-count="%s"]' % status).text


def sign_in(name):
    driver.get(base + "/console/updates")
    check("/console/login" in driver.current_url, "without a session the console sends you to the login page")
    driver.find_element(By.NAME, "name").send_keys(name)
    driver.find_element(By.NAME, "password").send_keys(config["password"])
    driver.find_element(By.CSS_SELECTOR, "form[action='/console/login'] button").click()
    wait(lambda: driver.current_url.endswith("/console/updates"), 30, name + " signs in")


def create_update(update_id, things):
    driver.get(base + "/console/updates/new")
    driver.find_element(By.NAME, "id").send_keys(update_id)
    driver.find_element(By.NAME, "things").send_keys(things)
    Select(driver.find_element(By.NAME, "file")).select_by_value(config["file"])
    check(driver.find_element(By.NAME, "sign").is_selected(), '"sign it for me" is ticked by default')
    Select(driver.find_element(By.NAME, "profile")).select_by_value("demo")
    Select(driver.find_element(By.NAME, "protocol")).select_by_value("MQTT")
    driver.find_element(By.NAME, "fileName").send_keys("/ota/firmware.bin")
    return driver.find_element(By.CSS_SELECTOR, "form[action='/console/updates'] button[type=submit]")


try:
    step("a visitor without a session is sent to sign in")
    driver.get(base + "/console/fleet")
    check("/console/login" in driver.current_url, "the fleet page needs a session")
    shot("login")

    step("the operator creates an update with sign-it-for-me")
    sign_in(config["operator"])
    submit = create_update("console-u1", config["things"])
    driver.execute_script("window.scrollTo(0, 0);")
    shot("create-update")
    submit.click()
    wait(lambda: driver.current_url.endswith("/console/updates/console-u1"), 30, "the new update's page opens")

    step("the rollout reaches SUCCEEDED without a reload")
    driver.execute_script("window.__sameDocument = 'still here';")
    wait(lambda: driver.find_element(By.ID, "live-state").text == "live", 30, "the live view connects")
    expected = str(len(config["things"].split()))
    seen_progress = False
    deadline = time.time() + 240
    while time.time() < deadline and count("SUCCEEDED") != expected:
        if not seen_progress and (count("IN_PROGRESS") != "0"):
            seen_progress = True
            shot("rollout-in-progress")
        time.sleep(0.5)
    check(count("SUCCEEDED") == expected, "every device reached SUCCEEDED: " + count("SUCCEEDED"))
    check(driver.execute_script("return window.__sameDocument") == "still here", "the page was never reloaded")
    # The job completes at the scheduler's next tick after its last execution succeeded.
    wait(lambda: driver.find_element(By.ID, "job-status").text.startswith("COMPLETED"), 30, "the job completes")
    check(not driver.find_element(By.ID, "cancel").is_displayed(), "a finished update offers no cancel")
    shot("rollout-succeeded")

    step("the operator cancels another update, confirming first")
    create_update("console-u2", config["waiting"]).click()
    wait(lambda: driver.current_url.endswith("/console/updates/console-u2"), 30, "the second update's page opens")
    driver.find_element(By.LINK_TEXT, "Cancel…").click()
    check("/cancel" in driver.current_url, "cancel asks for a confirmation")
    shot("cancel-confirm")
    driver.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait(lambda: driver.find_element(By.ID, "job-status").text.startswith("CANCELED"), 30, "the job is canceled")

    step("the fleet and files pages")
    driver.get(base + "/console/fleet")
    check(config["waiting"] in driver.page_source, "the fleet lists every thing")
    shot("fleet")
    driver.get(base + "/console/files")
    shot("files")
    step("the fleet page on a phone-sized window")
    driver.set_window_size(390, 844)
    driver.get(base + "/console/fleet")
    width = driver.execute_script("return document.documentElement.scrollWidth")
    check(width <= 400, "the page fits a phone's width (tables scroll inside it): %d px" % width)
    shot("fleet-phone")
    driver.set_window_size(1280, 1000)

    step("signing out, and a viewer cannot create an update")
    driver.find_element(By.CSS_SELECTOR, "nav form button").click()
    wait(lambda: "/console/login" in driver.current_url, 30, "signing out goes back to the login page")
    sign_in(config["viewer"])
    check(len(driver.find_elements(By.LINK_TEXT, "Create update")) == 0, "a viewer sees no create button")
    driver.get(base + "/console/updates/new")
    check(driver.find_element(By.TAG_NAME, "h1").text == "Not allowed", "the create form refuses a viewer")
    shot("viewer-refused")
    print("console browser test passed", flush=True)
finally:
    driver.quit()
