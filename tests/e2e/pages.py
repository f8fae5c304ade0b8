"""Steps that several browser tests take."""

from __future__ import annotations


def sign_up(page, username: str, email: str, password: str) -> None:
    """Fill in and submit the sign-up form; the new user ends signed in."""
    page.goto("/accounts/signup/")
    page.fill("input[name=username]", username)
    page.fill("input[name=email]", email)
    page.fill("input[name=password1]", password)
    page.fill("input[name=password2]", password)
    page.click("main form >> button[type=submit]")
