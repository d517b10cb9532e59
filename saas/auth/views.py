"""Sign-in, two-factor, password reset, invitations and the account pages."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user, login_required

from saas import audit
from saas.auth import services, sessions, throttle, totp
from saas.auth.forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    ConfirmForm,
    ForgotPasswordForm,
    LanguageForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
    TwoFactorForm,
)
from saas.auth.passwords import needs_rehash, verify_password
from saas.auth.services import (
    AccountError,
    accept_invitation,
    invitation_for_token,
    memberships_of,
    request_password_reset,
    reset_for_token,
    set_password,
    user_by_email,
)
from saas.extensions import limiter
from saas.i18n import current_locale
from saas.lifecycle import keep, refuse
from saas.models import Agency, User
from saas.tenancy import needs_two_factor

bp = Blueprint("auth", __name__)

PENDING_2FA_SECONDS = 300


def _safe_next(target: str | None) -> str | None:
    """Only local paths: never an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _failed(response: Any) -> bool:
    # only failed attempts count towards the per-address limit on failures
    return response.status_code != 302


def landing_url(user: User) -> str:
    if user.is_operator:
        return url_for("operator.index")
    memberships = memberships_of(user.id)
    if len(memberships) == 1:
        return url_for("home.index", slug=memberships[0][0].slug)
    return url_for("auth.agencies")


def _finish_sign_in(user: User, *, two_factor_passed: bool) -> Any:
    next_url = _safe_next(session.get("login_next"))
    sessions.start_session(user, two_factor_passed=two_factor_passed)
    audit.record_platform("auth.signed_in", user.email, actor_id=user.id)
    if user.is_operator and not user.has_totp:
        return redirect(url_for("auth.two_factor_setup"))
    return redirect(next_url or landing_url(user))


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("30 per 15 minutes", methods=["POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], deduct_when=_failed)
def login() -> Any:
    """Per address, attempts are limited outright (above). Per account, failures
    only make the next check wait (saas.auth.throttle), and a waiting account
    still opens at once to its password with a valid two-factor code, so
    nobody can keep its owner out by guessing."""
    if current_user.is_authenticated:
        return redirect(landing_url(current_user))
    form = LoginForm()
    if request.method == "GET" and request.args.get("next"):
        session["login_next"] = _safe_next(request.args.get("next"))
    if not form.validate_on_submit():
        return render_template("auth/login.html", form=form, ask_code=False)
    email = form.email.data
    wait = throttle.seconds_to_wait(email)
    if wait and not form.code.data:
        return _must_wait(form, wait)
    user = user_by_email(email)
    ok = verify_password(user.password_hash if user else None, form.password.data)
    usable = user is not None and ok and user.is_active
    if wait:
        # both factors or nothing; every other case answers exactly alike
        if usable and user.has_totp and totp.verify(user, form.code.data):
            return _password_accepted(user, form.password.data, two_factor_passed=True)
        _record_failure(email, user)
        return _must_wait(form, throttle.seconds_to_wait(email) or wait)
    if not usable:
        _record_failure(email, user)
        form.password.errors.append(_("The email or password is not right."))
        return render_template("auth/login.html", form=form, ask_code=False)
    if user.has_totp:
        if user.password_hash and needs_rehash(user.password_hash):
            set_password(user, form.password.data)
        session["pending_2fa_user"] = str(user.id)
        session["pending_2fa_at"] = time.time()
        return redirect(url_for("auth.login_two_factor"))
    return _password_accepted(user, form.password.data, two_factor_passed=False)


def _record_failure(email: str, user: User | None) -> None:
    throttle.record_failure(email)
    audit.record_platform("auth.sign_in_failed", email, actor_id=user.id if user else None)
    # on the record, though the page answers "wait" (429)
    keep()


def _must_wait(form: LoginForm, wait: int) -> Any:
    form.password.errors.append(_("Too many attempts for this account. Try again in %(n)d seconds.", n=wait))
    return render_template("auth/login.html", form=form, ask_code=True), 429


def _password_accepted(user: User, password: str, *, two_factor_passed: bool) -> Any:
    if user.password_hash and needs_rehash(user.password_hash):
        set_password(user, password)
    throttle.clear(user.email)
    return _finish_sign_in(user, two_factor_passed=two_factor_passed)


@bp.route("/login/two-factor", methods=["GET", "POST"])
@limiter.limit("10 per 15 minutes", methods=["POST"], deduct_when=_failed)
def login_two_factor() -> Any:
    user_id = session.get("pending_2fa_user")
    started = session.get("pending_2fa_at", 0)
    if not user_id or time.time() - started > PENDING_2FA_SECONDS:
        session.pop("pending_2fa_user", None)
        flash(_("Please sign in again."), "warning")
        return redirect(url_for("auth.login"))
    user = services.pending_two_factor_user(sessions._as_uuid(user_id))
    if user is None:
        abort(404)
    form = TwoFactorForm()
    if form.validate_on_submit():
        if totp.verify(user, form.code.data):
            session.pop("pending_2fa_user", None)
            throttle.clear(user.email)
            return _finish_sign_in(user, two_factor_passed=True)
        # a wrong code slows the password step for this account, like a wrong password
        throttle.record_failure(user.email)
        audit.record_platform("auth.two_factor_failed", user.email, actor_id=user.id)
        form.code.errors.append(_("That code is not right, or was already used. Try the next one."))
    return render_template("auth/two_factor.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    form = ConfirmForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        audit.record_platform("auth.signed_out", current_user.email, actor_id=current_user.id)
        sessions.end_session()
    response = redirect(url_for("auth.login"))
    # whatever a page kept on this device (the carer's phone app: its saved
    # pages, its queue, its token) goes with the session
    response.headers["Clear-Site-Data"] = '"cache", "storage"'
    return response


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("10 per hour", methods=["POST"])
def forgot_password() -> Any:
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        request_password_reset(form.email.data, current_locale())
        return render_template("auth/forgot_sent.html")
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
def reset_password(token: str) -> Any:
    reset = reset_for_token(token)
    if reset is None:
        return render_template("auth/link_invalid.html"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        user = services.use_password_reset(reset, form.password.data)
        sessions.revoke_other_sessions(user, keep=None)
        flash(_("Your password has been changed. Sign in with it now."), "success")
        return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)


@bp.route("/invite/<token>", methods=["GET", "POST"], endpoint="accept_invitation")
def accept_invitation_view(token: str) -> Any:
    found = invitation_for_token(token)
    if found is None:
        return render_template("auth/link_invalid.html"), 404
    agency, invitation = found
    existing = user_by_email(invitation.email)
    if existing is not None and existing.password_hash:
        # One person, several agencies: they confirm while signed in as themselves.
        if not current_user.is_authenticated or current_user.id != existing.id:
            session["login_next"] = request.path
            flash(_("You already have an account. Sign in to join %(agency)s.", agency=agency.name), "info")
            return redirect(url_for("auth.login"))
        form = ConfirmForm()
        if form.validate_on_submit():
            accept_invitation(invitation, existing)
            return _after_joining(existing, agency, invitation.role)
        return render_template("auth/invitation_join.html", form=form, agency=agency, invitation=invitation)
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        user = services.join_with_new_account(
            invitation, agency, existing, form.name.data, form.password.data
        )
        sessions.start_session(user, two_factor_passed=False)
        return _after_joining(user, agency, invitation.role)
    return render_template("auth/invitation.html", form=form, agency=agency, invitation=invitation)


def _after_joining(user: User, agency: Agency, role: str) -> Any:
    if needs_two_factor(agency, role) and not user.has_totp:
        session["after_2fa"] = url_for("home.index", slug=agency.slug)
        return redirect(url_for("auth.two_factor_setup"))
    return redirect(url_for("home.index", slug=agency.slug))


@bp.route("/agencies")
@login_required
def agencies() -> Any:
    return render_template("auth/agencies.html", memberships=memberships_of(current_user.id))


@bp.route("/language", methods=["POST"])
def set_language() -> Any:
    form = LanguageForm()
    if form.validate_on_submit():
        session["locale"] = form.locale.data
        if current_user.is_authenticated:
            current_user.locale = form.locale.data
    return redirect(_safe_next(request.form.get("next")) or url_for("index"))


@bp.route("/account", methods=["GET", "POST"])
@login_required
def account() -> Any:
    form = ProfileForm(obj=current_user)
    if request.method == "GET":
        form.locale.data = current_user.locale or ""
        form.region.data = current_user.region or ""
    if form.validate_on_submit():
        current_user.name = form.name.data
        current_user.locale = form.locale.data or None
        current_user.region = form.region.data or None
        if form.locale.data:
            session["locale"] = form.locale.data
        else:
            session.pop("locale", None)
        flash(_("Saved."), "success")
        return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Any:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            services.change_password(current_user, form.current.data, form.password.data)
        except AccountError as exc:
            refuse(form, exc)
        else:
            sessions.revoke_other_sessions(current_user, keep=current_user.current_session.id)
            audit.record_platform("password.changed", current_user.email)
            flash(_("Your password has been changed. Your other sessions were signed out."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/password.html", form=form)


@bp.route("/account/two-factor", methods=["GET", "POST"])
@login_required
def two_factor_setup() -> Any:
    if current_user.has_totp:
        return render_template("auth/two_factor_enabled.html")
    secret = session.get("totp_enrol_secret")
    if not secret:
        secret = totp.new_secret()
        session["totp_enrol_secret"] = secret
    form = TwoFactorForm()
    if form.validate_on_submit():
        counter = totp.matching_counter(secret, form.code.data)
        if counter is None:
            form.code.errors.append(_("That code is not right. Check the time on your phone and try again."))
        else:
            current_user.totp_secret = secret
            current_user.totp_last_counter = counter
            sessions.pass_two_factor(current_user.current_session.id)
            audit.record_platform("auth.two_factor_enrolled", current_user.email)
            session.pop("totp_enrol_secret", None)
            flash(_("Two-factor sign-in is on."), "success")
            return redirect(_safe_next(session.pop("after_2fa", None)) or landing_url(current_user))
    uri = totp.provisioning_uri(secret, current_user.email)
    return render_template("auth/two_factor_setup.html", form=form, secret=secret, qr=totp.qr_svg(uri))


@bp.route("/account/sessions", methods=["GET", "POST"])
@login_required
def account_sessions() -> Any:
    form = ConfirmForm()
    if form.validate_on_submit():
        n = sessions.revoke_other_sessions(current_user, keep=current_user.current_session.id)
        audit.record_platform("auth.other_sessions_revoked", current_user.email, count=n)
        flash(_("Signed out of %(n)d other sessions.", n=n), "success")
        return redirect(url_for("auth.account_sessions"))
    rows = sessions.live_sessions(current_user)
    return render_template("auth/sessions.html", rows=rows, form=form)


def require_two_factor_guard() -> Any:
    """before_request: operators must enrol TOTP before anything else, and a
    session that skipped TOTP cannot act as an agency admin (checked in
    tenancy)."""
    if not current_user.is_authenticated or request.endpoint in _ALWAYS_ALLOWED:
        return None
    if current_user.is_operator and not current_user.has_totp:
        return redirect(url_for("auth.two_factor_setup"))
    return None


_ALWAYS_ALLOWED = {
    "auth.two_factor_setup",
    "auth.logout",
    "auth.set_language",
    "static",
    "health.healthz",
    "health.readyz",
}
