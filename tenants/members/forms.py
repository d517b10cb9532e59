from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, Length
from wtforms.widgets import CheckboxInput, ListWidget

from saas.api import scopes as api_scopes
from saas.fields import lowercase, strip
from saas.i18n import role_label
from saas.models import Role


def role_choices() -> list[tuple[str, str]]:
    return [(role.value, role_label(role.value)) for role in Role]


class InviteMemberForm(FlaskForm):
    email = EmailField(
        _l("Email"), validators=[DataRequired(), Email(), Length(max=254)], filters=[lowercase]
    )
    role = SelectField(_l("Role"), choices=role_choices, default="carer")


class ChangeRoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=role_choices)


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class NewTokenForm(FlaskForm):
    name = StringField(
        _l("Token name"),
        validators=[DataRequired(), Length(max=100)],
        filters=[strip],
        description=_l("For example: my phone"),
    )
    kinds = MultiCheckboxField(
        _l("It may"),
        choices=api_scopes.kind_labels,
        default=[api_scopes.READ, api_scopes.WRITE],
        validate_choice=True,
    )
    areas = MultiCheckboxField(
        _l("In these areas"),
        choices=api_scopes.area_labels,
        default=lambda: [name for name, _label in api_scopes.area_labels()],
        validate_choice=True,
    )


class TwoFactorPolicyForm(FlaskForm):
    carers_two_factor = BooleanField(
        _l("Carers sign in with two-factor too"),
        description=_l("Admins and coordinators always do. Carers without it are asked to set it up."),
    )
