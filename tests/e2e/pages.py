"""Steps that several browser tests take, and the accessibility check."""

from __future__ import annotations

IMPACTS_THAT_FAIL = ("serious", "critical")


def sign_up(page, username: str, email: str, password: str) -> None:
    """Fill in and submit the sign-up form; the new user ends signed in."""
    page.goto("/accounts/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", password)
    page.fill("input[name=password2]", password)
    page.click("main form >> button[type=submit]")
    page.get_by_test_id("username").wait_for()


def log_in(page, username: str, password: str) -> None:
    """Log in through the login page."""
    page.goto("/accounts/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("main form >> button[type=submit]")


def log_out(page) -> None:
    """Press the header's log-out button."""
    page.click("header form[action$='/logout/'] >> button")
    page.wait_for_load_state()


def serious_violations(page) -> list[str]:
    """Return axe-core's serious and critical violations on the page, one readable line per element."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{page.url}: {violation['id']} ({violation['impact']}): {violation['help']} at {node['target']}"
        for violation in results.response["violations"]
        if violation["impact"] in IMPACTS_THAT_FAIL
        for node in violation["nodes"]
    ]


# Added to every page before its own scripts run: keeps what the Content-Security-Policy refused.
CSP_LISTENER = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (event) {
  window.__cspViolations.push(event.violatedDirective + " refused " + (event.blockedURI || "inline") +
    " at line " + event.lineNumber);
});
"""


def csp_violations(page) -> list[str]:
    """Return what the page's Content-Security-Policy refused since it loaded (needs CSP_LISTENER)."""
    page.wait_for_load_state("networkidle")
    return [f"{page.url}: {line}" for line in page.evaluate("window.__cspViolations || []")]
