"""Staffing forms. They parse what was typed (dates, numbers); the rules live
in the services, whose problems are shown next to these same field names."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from saas.fields import lowercase, strip
from tenants.staffing.labels import choices
from tenants.staffing.models import WEEKDAYS


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class StaffForm(FlaskForm):
    staff_role = SelectField(_l("Staff role"), choices=lambda: choices("staff_role"), default="carer")
    staff_number = StringField(_l("Staff number"), validators=[Optional(), Length(max=40)], filters=[strip])
    employment_start = DateField(_l("Employment start"), validators=[DataRequired()])
    employment_end = DateField(_l("Employment end"), validators=[Optional()])
    contracted_hours = DecimalField(
        _l("Contracted hours per week"), places=2, validators=[Optional()], default=0
    )
    home_area = StringField(_l("Home area"), validators=[Optional(), Length(max=120)], filters=[strip])
    skills = StringField(
        _l("Skills"),
        filters=[strip],
        description=_l("Separated by commas, for example: dementia care, cooking"),
    )
    languages = StringField(_l("Languages"), filters=[strip], description=_l("Separated by commas"))
    availability_mon = StringField(_l("Monday"), filters=[strip])
    availability_tue = StringField(_l("Tuesday"), filters=[strip])
    availability_wed = StringField(_l("Wednesday"), filters=[strip])
    availability_thu = StringField(_l("Thursday"), filters=[strip])
    availability_fri = StringField(_l("Friday"), filters=[strip])
    availability_sat = StringField(_l("Saturday"), filters=[strip])
    availability_sun = StringField(_l("Sunday"), filters=[strip])
    caseload_limit = IntegerField(
        _l("Individual caseload limit"),
        validators=[Optional()],
        description=_l("Leave empty to use the agency's setting."),
    )
    community_limit = IntegerField(
        _l("Community residents limit"),
        validators=[Optional()],
        description=_l("Leave empty to use the agency's setting."),
    )
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])
    # choices are the agency's active teams, set by the view; the service checks the choice
    team_id = SelectField(_l("Team"), choices=[], validate_choice=False)

    def availability_fields(self) -> list:
        return [getattr(self, f"availability_{day}") for day in WEEKDAYS]


class NewStaffForm(StaffForm):
    email = EmailField(
        _l("Email"),
        validators=[DataRequired(), Length(max=254)],
        filters=[lowercase],
        description=_l("A member of the agency, or someone new: they will be invited to set a password."),
    )
    name = StringField(_l("Full name"), validators=[Optional(), Length(max=200)], filters=[strip])


class TimeOffForm(FlaskForm):
    starts_on = DateField(_l("From"), validators=[DataRequired()])
    ends_on = DateField(_l("Until"), validators=[DataRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)], filters=[strip])


class CertificateForm(FlaskForm):
    certificate_type_id = SelectField(_l("Type"), choices=[], validate_choice=False)
    number = StringField(_l("Number"), validators=[DataRequired(), Length(max=80)], filters=[strip])
    issuer = StringField(_l("Issued by"), validators=[Optional(), Length(max=200)], filters=[strip])
    issued_on = DateField(_l("Issue date"), validators=[DataRequired()])
    expires_on = DateField(
        _l("Expiry date"), validators=[Optional()], description=_l("Leave empty if it never expires.")
    )
    document = FileField(_l("Scanned document"), description=_l("Optional. PDF, PNG or JPEG, at most 5 MB."))


class TeamForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)], filters=[strip])
    supervisor_membership_id = SelectField(
        _l("Supervisor"),
        choices=[],
        validate_choice=False,
        description=_l("Follows up the low ratings of the team's carers."),
    )
    active = BooleanField(_l("Active"), default=True)


class CertificateTypeForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=120)], filters=[strip])
    description = StringField(_l("Description"), validators=[Optional(), Length(max=500)], filters=[strip])


class RecruitmentForm(FlaskForm):
    screening_result = SelectField(_l("Screening"), choices=lambda: choices("stage_result"))
    screening_on = DateField(_l("Screening date"), validators=[Optional()])
    interview_result = SelectField(_l("Interview"), choices=lambda: choices("stage_result"))
    interview_on = DateField(_l("Interview date"), validators=[Optional()])
    practical_result = SelectField(_l("Practical test"), choices=lambda: choices("stage_result"))
    practical_on = DateField(_l("Practical test date"), validators=[Optional()])
    decision = SelectField(_l("Overall decision"), choices=lambda: choices("decision"))
    decided_on = DateField(_l("Decision date"), validators=[Optional()])
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=5000)])


class CaseloadForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=lambda: choices("caseload_kind"))
    label = StringField(
        _l("Client or programme"), validators=[DataRequired(), Length(max=200)], filters=[strip]
    )
    reference = StringField(_l("Reference"), validators=[Optional(), Length(max=100)], filters=[strip])
    residents = IntegerField(
        _l("Residents"), validators=[Optional()], description=_l("For community programmes."), default=1
    )
    starts_on = DateField(_l("From"), validators=[DataRequired()])
    ends_on = DateField(_l("Until"), validators=[Optional()])
    override_reason = TextAreaField(
        _l("Reason to go over the limit"),
        validators=[Optional(), Length(max=2000)],
        description=_l("Only if this would take the caseload over the limit."),
    )


class EndCaseloadForm(FlaskForm):
    ends_on = DateField(_l("Ends on"), validators=[Optional()])


class ReviewForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=lambda: choices("review_kind"))
    period_start = DateField(_l("Period from"), validators=[DataRequired()])
    period_end = DateField(_l("Period until"), validators=[DataRequired()])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=5000)])


class RatingForm(FlaskForm):
    source = SelectField(_l("Rated by"), choices=lambda: choices("rating_source"))
    quality_of_care = IntegerField(_l("Quality of care"), validators=[InputRequired()])
    reliability = IntegerField(_l("Reliability"), validators=[InputRequired()])
    communication = IntegerField(_l("Communication"), validators=[InputRequired()])
    teamwork = IntegerField(_l("Teamwork"), validators=[InputRequired()])
    professionalism = IntegerField(_l("Professionalism"), validators=[InputRequired()])
    comment = TextAreaField(_l("Comments"), validators=[Optional(), Length(max=5000)])


class RewardForm(FlaskForm):
    kind = SelectField(_l("Kind"), choices=lambda: choices("reward_kind"))
    on_date = DateField(_l("Date"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=5000)])


class OverrideForm(FlaskForm):
    reason = TextAreaField(_l("Written reason"), validators=[DataRequired(), Length(max=2000)])
    expires_on = DateField(_l("Until"), validators=[Optional()], description=_l("Optional."))


class RequiredCertificatesForm(FlaskForm):
    """The certificates each role must hold (the numbers are generated settings)."""

    required_carer = MultiCheckboxField(_l("Carers must hold"), choices=[], validate_choice=False)
    required_social_worker = MultiCheckboxField(
        _l("Social workers must hold"), choices=[], validate_choice=False
    )
    required_coordinator = MultiCheckboxField(_l("Coordinators must hold"), choices=[], validate_choice=False)


class ImportForm(FlaskForm):
    file = FileField(_l("Spreadsheet"), description=_l("CSV (UTF-8 or GBK) or Excel .xlsx, at most 5 MB."))
