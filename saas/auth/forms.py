from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup
from wtforms import BooleanField, EmailField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Email, EqualTo, Length, Optional

from saas.fields import LOCALES, StrongPassword, lowercase, strip
from saas.i18n import region_choices


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)], filters=[lowercase])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=200)])
    # asked only while the account waits after failed attempts (saas.auth.throttle):
    # with it, the owner signs in at once
    code = StringField(
        _l("Six-digit code"),
        validators=[Optional(), Length(max=8)],
        filters=[strip],
        description=_l("If you use two-factor sign-in, enter your current code to sign in now."),
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


class TwoFactorForm(FlaskForm):
    code = StringField(
        _l("Six-digit code"),
        validators=[DataRequired(), Length(min=6, max=8)],
        filters=[strip],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(), Email(), Length(max=254)], filters=[lowercase]
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=200), StrongPassword()],
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class AcceptInvitationForm(NewPasswordForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=200)], filters=[strip])


class ChangePasswordForm(NewPasswordForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class ProfileForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    locale = SelectField(_l("Language"), choices=[("", _l("As my agency or browser"))] + list(LOCALES))
    region = SelectField(
        _l("Dates and numbers written as in"),
        choices=[("", _l("As my agency"))] + region_choices(),
    )


class LanguageForm(FlaskForm):
    locale = SelectField(_l("Language"), choices=list(LOCALES))


class ConfirmForm(FlaskForm):
    """A bare form for buttons that change something (CSRF only)."""

    confirm = BooleanField(default=True)


class CsrfOnly:
    """What the frame of every page takes of its forms (the language switch,
    signing out): the CSRF field, as a form renders it, without building a
    form on every page."""

    @property
    def csrf_token(self) -> Markup:
        return Markup('<input id="csrf_token" name="csrf_token" type="hidden" value="{}">').format(
            generate_csrf()
        )
