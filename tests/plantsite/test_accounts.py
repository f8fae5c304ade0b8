"""Sign-up, log-in, log-out and password change through the test client."""

from __future__ import annotations

import uuid

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpRequest
from django.urls import reverse

pytestmark = pytest.mark.django_db
STRONG = "Fern-Leaf-2024!"


def signup(client, username="alice", email="alice@example.org", password1=STRONG, password2=STRONG, **extra):
    return client.post(
        reverse("signup"),
        {"username": username, "email": email, "password1": password1, "password2": password2},
        **extra,
    )


def test_signup_creates_user_and_logs_in(client):
    response = signup(client)
    assert response.status_code == 302
    user = get_user_model().objects.get(username="alice")
    assert user.email == "alice@example.org"
    assert client.get(reverse("home")).context["user"] == user


def test_signup_rejects_duplicate_username(client, django_user_model):
    django_user_model.objects.create_user("alice", "a@example.org", STRONG)
    response = signup(client)
    assert response.status_code == 400
    assert "A user with that username already exists." in response.content.decode()


def test_signup_rejects_weak_password(client):
    response = signup(client, password1="123", password2="123")
    assert response.status_code == 400
    body = response.content.decode()
    assert "This password is too short" in body
    assert not get_user_model().objects.filter(username="alice").exists()


def test_signup_rejects_mismatched_passwords(client):
    response = signup(client, password2=STRONG + "x")
    assert response.status_code == 400
    assert "The two password fields didn" in response.content.decode()


def test_signup_requires_email(client):
    response = signup(client, email="")
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()


def test_login_with_valid_credentials(client, django_user_model):
    django_user_model.objects.create_user("bob", "b@example.org", STRONG)
    response = client.post(reverse("login"), {"username": "bob", "password": STRONG})
    assert response.status_code == 302
    assert response.wsgi_request.user.is_authenticated


def test_login_with_wrong_password_shows_error(client, django_user_model):
    django_user_model.objects.create_user("bob", "b@example.org", STRONG)
    response = client.post(reverse("login"), {"username": "bob", "password": "wrong"})
    assert response.status_code == 200
    assert "Please enter a correct username and password" in response.content.decode()


def test_logout_is_post_only_and_ends_session(client, django_user_model):
    user = django_user_model.objects.create_user("bob", "b@example.org", STRONG)
    client.force_login(user)
    assert client.get(reverse("logout")).status_code == 405
    assert client.post(reverse("logout")).status_code == 302
    assert "_auth_user_id" not in client.session


def test_password_change_then_login_with_new_password(client, django_user_model):
    user = django_user_model.objects.create_user("bob", "b@example.org", STRONG)
    client.force_login(user)
    new = "Oak-Bark-Moss-77"
    response = client.post(
        reverse("password_change"),
        {"old_password": STRONG, "new_password1": new, "new_password2": new},
    )
    assert response.status_code == 302
    client.logout()
    assert client.login(request=HttpRequest(), username="bob", password=new)  # django-axes needs a request


def test_password_change_rejects_wrong_old_password(client, django_user_model):
    user = django_user_model.objects.create_user("bob", "b@example.org", STRONG)
    client.force_login(user)
    response = client.post(
        reverse("password_change"),
        {"old_password": "nope", "new_password1": "Oak-Bark-Moss-77", "new_password2": "Oak-Bark-Moss-77"},
    )
    assert response.status_code == 200
    assert "Your old password was entered incorrectly" in response.content.decode()


def test_the_password_pages_are_the_sites_own_not_the_admins(client, django_user_model):
    user = django_user_model.objects.create_user("alice", "alice@example.org", STRONG)
    client.force_login(user)
    page = client.get(reverse("password_change")).content.decode()
    assert 'class="brand"' in page and "/admin/" not in page


def test_password_reset_mails_a_link_that_sets_a_new_password(client, django_user_model, mailoutbox):
    import re

    django_user_model.objects.create_user("alice", "alice@example.org", STRONG)
    response = client.post(reverse("password_reset"), {"email": "alice@example.org"})
    assert response.status_code == 302 and len(mailoutbox) == 1
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mailoutbox[0].body).group(1)
    form = client.get(link, follow=True)  # Django swaps the token for a session and redirects
    client.post(form.redirect_chain[-1][0], {"new_password1": "New-Frond-5150", "new_password2": "New-Frond-5150"})
    assert client.login(request=HttpRequest(), username="alice", password="New-Frond-5150")


def test_a_used_password_reset_link_sets_no_password_again(client, django_user_model, mailoutbox):
    import re

    from django.test import Client

    django_user_model.objects.create_user("alice", "alice@example.org", STRONG)
    client.post(reverse("password_reset"), {"email": "alice@example.org"})
    link = re.search(r"https?://[^/\s]+(/accounts/password/reset/\S+/)", mailoutbox[0].body).group(1)
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": "New-Frond-5150", "new_password2": "New-Frond-5150"})

    again = Client()  # whoever holds the mail later: a fresh browser with the same link
    page = again.get(link, follow=True)
    assert "not valid any more" in page.content.decode() and not page.context["validlink"]
    again.post(
        page.redirect_chain[-1][0] if page.redirect_chain else link,
        {
            "new_password1": "Stolen-Leaf-6262",
            "new_password2": "Stolen-Leaf-6262",
        },
    )
    assert not again.login(request=HttpRequest(), username="alice", password="Stolen-Leaf-6262")
    assert again.login(request=HttpRequest(), username="alice", password="New-Frond-5150")


def test_deleting_the_account_asks_for_the_password(client, django_user_model):
    user = django_user_model.objects.create_user("alice", "alice@example.org", STRONG)
    client.force_login(user)
    response = client.post(reverse("account_delete"), {"password": "wrong"})
    assert response.status_code == 400 and "not your password" in response.content.decode()
    assert django_user_model.objects.filter(username="alice").exists()


def test_deleting_the_account_removes_the_user_and_logs_out(client, django_user_model):
    user = django_user_model.objects.create_user("alice", "alice@example.org", STRONG)
    client.force_login(user)
    response = client.post(reverse("account_delete"), {"password": STRONG})
    assert response.status_code == 302
    assert not django_user_model.objects.filter(username="alice").exists()
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_the_email_backend_comes_from_email_url(monkeypatch):
    import environ

    config = environ.Env.email_url_config("smtp+tls://mailer:secret@mail.example.org:587")
    assert config["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (config["EMAIL_HOST"], config["EMAIL_PORT"], config["EMAIL_USE_TLS"]) == ("mail.example.org", 587, True)


@pytest.mark.parametrize("next_url", ["/accounts/login/", "/accounts/login/?next=/accounts/login/"])
def test_a_signed_in_user_sent_back_to_the_login_page_goes_home_instead_of_round_a_loop(
    client, django_user_model, next_url
):
    client.force_login(django_user_model.objects.create_user("alice", "alice@example.org", STRONG))
    response = client.get(reverse("login"), {"next": next_url})
    assert response.status_code == 302 and response["Location"] == reverse("home")


def test_a_signed_in_user_still_goes_to_a_safe_next_page(client, django_user_model):
    client.force_login(django_user_model.objects.create_user("alice", "alice@example.org", STRONG))
    response = client.get(reverse("login"), {"next": "/history/"})
    assert response.status_code == 302 and response["Location"] == "/history/"


def _address() -> str:
    """A documentation address of this test's own (throttles count per address in the shared cache)."""
    return f"2001:db8::{uuid.uuid4().hex[:4]}"


def _login(client, username: str, password: str, address: str, url: str = "/accounts/login/"):
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=address)


def test_after_the_failure_limit_the_account_is_locked_even_from_new_addresses(client, django_user_model, settings):
    django_user_model.objects.create_user("bob", "b@example.org", STRONG)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "bob", "wrong-guess", _address())
    response = _login(client, "bob", STRONG, _address())
    assert response.status_code == 429 and response["Retry-After"] == "900"
    assert "try again in 15 minutes" in response.content.decode()
    assert not response.wsgi_request.user.is_authenticated


def test_after_the_failure_limit_an_address_is_locked_for_every_account(client, django_user_model, settings):
    django_user_model.objects.create_user("carol", "c@example.org", STRONG)
    address = _address()
    for number in range(settings.AXES_FAILURE_LIMIT):
        _login(client, f"guess{number}", "wrong-guess", address)
    response = _login(client, "carol", STRONG, address)
    assert response.status_code == 429 and "try again in 15 minutes" in response.content.decode()
    assert _login(client, "carol", STRONG, _address()).status_code == 302  # from elsewhere carol logs in


def test_the_admin_login_is_locked_after_the_failure_limit(client, django_user_model, settings):
    django_user_model.objects.create_superuser("root", "r@example.org", STRONG)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login(client, "root", "wrong-guess", _address(), url="/admin/login/")
    response = _login(client, "root", STRONG, _address(), url="/admin/login/")
    assert response.status_code == 429 and "try again in 15 minutes" in response.content.decode()


def test_sign_ups_from_one_address_beyond_the_rate_wait_with_when_to_try_again(client, settings):
    settings.ACCOUNTS_SIGNUP_RATE = "2/hour"
    address = _address()
    for name in ("ann", "ben"):
        email = f"{name}-{uuid.uuid4().hex[:8]}@example.org"
        assert signup(client, username=name, email=email, REMOTE_ADDR=address).status_code == 302
        client.logout()
    response = signup(client, username="cat", email=f"cat-{uuid.uuid4().hex[:8]}@example.org", REMOTE_ADDR=address)
    assert response.status_code == 429
    assert "Too many sign-ups" in response.content.decode() and "try again in 60 minutes" in response.content.decode()
    assert not get_user_model().objects.filter(username="cat").exists()


def test_password_resets_for_one_email_address_beyond_the_rate_send_no_mail(
    client, django_user_model, settings, mailoutbox
):
    settings.ACCOUNTS_PASSWORD_RESET_RATE = "2/hour"
    email = f"alice-{uuid.uuid4().hex[:8]}@example.org"  # counted in the shared cache: this test's own
    django_user_model.objects.create_user("alice", email, STRONG)
    statuses = [
        client.post(reverse("password_reset"), {"email": email.upper()}, REMOTE_ADDR=_address()).status_code
        for _ in range(3)
    ]
    assert statuses == [302, 302, 429] and len(mailoutbox) == 2
    response = client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=_address())
    assert response.status_code == 429 and "try again in 60 minutes" in response.content.decode()


def test_a_forged_forwarded_address_counts_as_the_peer_not_a_500(client, django_user_model, settings):
    settings.TRUSTED_PROXIES = 1
    django_user_model.objects.create_user("dora", "d@example.org", STRONG)
    response = client.post(
        "/accounts/login/", {"username": "dora", "password": STRONG}, HTTP_X_FORWARDED_FOR="not-an-address"
    )
    assert response.status_code == 302
