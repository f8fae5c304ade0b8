"""Account views Django does not ship (sign-up, the account page, deleting one's account) and its login page."""

from __future__ import annotations

import hashlib
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import get_user_model, login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.forms import PasswordResetForm, UserCreationForm
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.decorators.http import require_http_methods

from .throttling import client_address, over_rate, wait_text


class SignUpForm(UserCreationForm):
    """Django's user creation form with a required e-mail address (used for password reset)."""

    class Meta(UserCreationForm.Meta):
        model = get_user_model()
        fields = ("username", "email")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].required = True
        self.fields["email"].help_text = gettext_lazy("Used only to send you a link when you forget your password.")


class LoginView(auth_views.LoginView):
    """Django's login page; a signed-in user whose ``next`` is this page goes home instead of round in a loop."""

    redirect_authenticated_user = True

    def get_redirect_url(self) -> str:  # type: ignore[override]  # django-stubs adds an argument Django 5.2 lacks
        url = super().get_redirect_url()
        return "" if url and urlsplit(url).path == self.request.path else url


@method_decorator(login_not_required, name="dispatch")
class SignUpView(View):
    """Create an account and sign the new user in."""

    template_name = "registration/signup.html"

    def get(self, request: HttpRequest) -> HttpResponse:
        return render(request, self.template_name, {"form": SignUpForm()})

    def post(self, request: HttpRequest) -> HttpResponse:
        form = SignUpForm(request.POST)
        valid = form.is_valid()
        wait = over_rate(
            request, "signup", settings.ACCOUNTS_SIGNUP_RATE, attempt_keys(request, request.POST.get("email"))
        )
        if wait is not None:
            form.add_error(
                None,
                _("Too many sign-ups from your address or for this e-mail address: try again in %(wait)s.")
                % {"wait": wait_text(wait)},
            )
            return render(request, self.template_name, {"form": form}, status=429)
        if not valid:
            return render(request, self.template_name, {"form": form}, status=400)
        user = form.save()
        login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, _("Welcome, %(name)s: your account is ready.") % {"name": user.get_username()})
        return redirect("home")


def attempt_keys(request: HttpRequest, email: str | None) -> list[str]:
    """Return what an account request is counted under: the client's address and, when given, the e-mail address
    (hashed: the cache holds no addresses in clear)."""
    keys = [f"address-{client_address(request)}"]
    if email and email.strip():
        keys.append("email-" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:32])
    return keys


@method_decorator(login_not_required, name="dispatch")
class ThrottledPasswordResetView(auth_views.PasswordResetView):
    """Django's password reset, at most ACCOUNTS_PASSWORD_RESET_RATE per address and per e-mail address."""

    def form_valid(self, form: PasswordResetForm) -> HttpResponse:
        keys = attempt_keys(self.request, form.cleaned_data.get("email"))
        wait = over_rate(self.request, "password-reset", settings.ACCOUNTS_PASSWORD_RESET_RATE, keys)
        if wait is not None:
            form.add_error(
                None,
                _("Too many reset requests from your address or for this e-mail address: try again in %(wait)s.")
                % {"wait": wait_text(wait)},
            )
            return self.render_to_response(self.get_context_data(form=form), status=429)
        return super().form_valid(form)


def account(request: HttpRequest) -> HttpResponse:
    """Render the account page: password, API token and deleting the account."""
    return render(request, "registration/account.html")


class DeleteAccountForm(forms.Form):
    """The user's current password, asked again before everything is deleted."""

    password = forms.CharField(label=gettext_lazy("Your password"), widget=forms.PasswordInput, strip=False)

    def __init__(self, user, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError(_("This is not your password: type it again to confirm."))
        return password


@require_http_methods(["GET", "POST"])
def delete_account(request: HttpRequest) -> HttpResponse:
    """Ask for the password (GET), then delete the account with its identifications and photos (POST)."""
    form = DeleteAccountForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        user = request.user
        logout(request)
        user.delete()  # cascades to identifications; recognition removes their files once committed
        messages.success(request, _("Your account and everything in it were deleted."))
        return redirect("home")
    status = 400 if request.method == "POST" else 200
    return render(request, "registration/account_delete.html", {"form": form}, status=status)
