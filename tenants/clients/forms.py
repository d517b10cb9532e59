from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    FieldList,
    Form,
    FormField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from saas.fields import strip
from tenants.clients.models import ASSESSMENT_DOMAINS


def gender_choices() -> list[tuple[str, str]]:
    return [
        ("undisclosed", _l("Not stated")),
        ("female", _l("Female")),
        ("male", _l("Male")),
        ("other", _l("Other")),
    ]


def _optional(choices: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [("", _l("Not recorded"))] + choices


def family_choices() -> list[tuple[str, str]]:
    return _optional(
        [
            ("single", _l("Single")),
            ("married", _l("Married")),
            ("widowed", _l("Widowed")),
            ("divorced", _l("Divorced")),
        ]
    )


def economic_choices() -> list[tuple[str, str]]:
    return _optional(
        [("low", _l("Low income")), ("middle", _l("Middle income")), ("high", _l("High income"))]
    )


def health_choices() -> list[tuple[str, str]]:
    return _optional(
        [
            ("healthy", _l("Healthy")),
            ("chronic_illness", _l("Chronic illness")),
            ("disability", _l("Disability")),
            ("serious_illness", _l("Serious illness")),
        ]
    )


def psychological_choices() -> list[tuple[str, str]]:
    return _optional(
        [
            ("normal", _l("Normal")),
            ("anxiety", _l("Anxiety")),
            ("depression", _l("Depression")),
            ("mental_disorder", _l("Mental disorder")),
        ]
    )


def channel_choices() -> list[tuple[str, str]]:
    return [
        ("phone", _l("Phone")),
        ("walk_in", _l("Walk-in")),
        ("online", _l("Online")),
        ("referral", _l("Referral")),
    ]


def method_choices() -> list[tuple[str, str]]:
    return [
        ("questionnaire", _l("Questionnaire")),
        ("interview", _l("Interview")),
        ("observation", _l("Observation")),
        ("records", _l("Records analysis")),
    ]


def follow_up_method_choices() -> list[tuple[str, str]]:
    return [
        ("phone", _l("Phone call")),
        ("visit", _l("Home visit")),
        ("group_meeting", _l("Group meeting")),
        ("support_network", _l("Through the support network")),
    ]


def domain_label(domain: str) -> str:
    labels = {
        "physical": _l("Physical"),
        "psychological": _l("Psychological"),
        "social": _l("Social"),
        "family_network": _l("Family and social network"),
        "quality_of_life": _l("Quality of life"),
    }
    return str(labels[domain])


class ContactForm(Form):
    name = StringField(_l("Name"), validators=[Optional(), Length(max=200)], filters=[strip])
    relationship = StringField(_l("Relationship"), validators=[Optional(), Length(max=100)], filters=[strip])
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)], filters=[strip])


class ClientForm(FlaskForm):
    full_name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)], filters=[strip])
    preferred_name = StringField(
        _l("Preferred name"), validators=[Optional(), Length(max=100)], filters=[strip]
    )
    date_of_birth = DateField(_l("Date of birth"), validators=[Optional()])
    gender = SelectField(_l("Gender"), choices=gender_choices, default="undisclosed")
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=40)], filters=[strip])
    email = EmailField(_l("Email"), validators=[Optional(), Email(), Length(max=254)], filters=[strip])
    address = TextAreaField(_l("Address"), validators=[Optional(), Length(max=1000)], filters=[strip])
    area = StringField(
        _l("Area"),
        validators=[Optional(), Length(max=120)],
        filters=[strip],
        description=_l("The district or neighbourhood, as your rota's areas name it"),
    )
    access_notes = TextAreaField(
        _l("Access notes (key safe, door code, parking)"),
        validators=[Optional(), Length(max=2000)],
        filters=[strip],
        description=_l("Shown to the carers on the visit sheet, also without signal"),
    )
    latitude = DecimalField(
        _l("Latitude"),
        places=6,
        validators=[Optional(), NumberRange(-90, 90)],
        description=_l("Optional map position, for check-in distance"),
    )
    longitude = DecimalField(_l("Longitude"), places=6, validators=[Optional(), NumberRange(-180, 180)])
    checkin_radius_m = IntegerField(
        _l("Check-in radius (metres)"), default=300, validators=[DataRequired(), NumberRange(10, 50000)]
    )
    languages = StringField(
        _l("Languages"),
        validators=[Optional(), Length(max=200)],
        filters=[strip],
        description=_l("Separated by commas"),
    )
    family_status = SelectField(_l("Family status"), choices=family_choices, default="")
    economic_status = SelectField(_l("Economic status"), choices=economic_choices, default="")
    health_status = SelectField(_l("Health"), choices=health_choices, default="")
    psychological_state = SelectField(_l("Psychological state"), choices=psychological_choices, default="")
    consent_services = BooleanField(_l("Consents to receive services"))
    consent_data = BooleanField(_l("Consents to the use of their personal data"))
    contacts = FieldList(FormField(ContactForm), label=_l("Emergency contacts"), min_entries=2, max_entries=5)


class OpenCaseForm(FlaskForm):
    intake_channel = SelectField(_l("How they reached us"), choices=channel_choices)
    referrer = StringField(_l("Referred by"), validators=[Optional(), Length(max=200)], filters=[strip])
    materials_received = TextAreaField(
        _l("Materials received"), validators=[Optional(), Length(max=2000)], filters=[strip]
    )
    special_programme = BooleanField(
        _l("Part of a special programme"), description=_l("Its file is kept for the longer retention period.")
    )


class AssessmentForm(FlaskForm):
    method = SelectField(_l("Method"), choices=method_choices)
    assessed_on = DateField(_l("Date"), validators=[DataRequired()])
    summary = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=4000)], filters=[strip])


def _level_field(label: str) -> IntegerField:
    return IntegerField(label, validators=[DataRequired(), NumberRange(1, 5)])


for _domain in ASSESSMENT_DOMAINS:
    setattr(AssessmentForm, f"{_domain}_level", _level_field(_l("Level (1 = no need, 5 = severe)")))
    setattr(
        AssessmentForm,
        f"{_domain}_notes",
        TextAreaField(_l("Notes"), validators=[Optional(), Length(max=2000)], filters=[strip]),
    )


class HazardForm(Form):
    hazard = StringField(_l("Hazard"), validators=[Optional(), Length(max=300)], filters=[strip])
    likelihood = IntegerField(_l("Likelihood (1-5)"), validators=[Optional(), NumberRange(1, 5)])
    impact = IntegerField(_l("Impact (1-5)"), validators=[Optional(), NumberRange(1, 5)])
    mitigation = StringField(_l("Mitigation"), validators=[Optional(), Length(max=500)], filters=[strip])


class RiskForm(FlaskForm):
    assessed_on = DateField(_l("Date"), validators=[DataRequired()])
    hazards = FieldList(FormField(HazardForm), min_entries=5, max_entries=20)


class CloseCaseForm(FlaskForm):
    closed_on = DateField(_l("Closed on"), validators=[DataRequired()])
    reason = TextAreaField(
        _l("Reason for closing"), validators=[DataRequired(), Length(max=2000)], filters=[strip]
    )


class FollowUpForm(FlaskForm):
    done_on = DateField(_l("Date"), validators=[DataRequired()])
    method = SelectField(_l("How"), choices=follow_up_method_choices)
    outcome = TextAreaField(_l("Outcome"), validators=[DataRequired(), Length(max=4000)], filters=[strip])
    new_intervention = BooleanField(_l("A new intervention is needed"))
    reopen = BooleanField(_l("Re-open the case for assessment"))


class PortalLinkForm(FlaskForm):
    membership_id = SelectField(_l("Client-portal member"), choices=[])
    relationship = SelectField(
        _l("Relationship"),
        choices=[("self", _l("The client")), ("family", _l("Family member")), ("guardian", _l("Guardian"))],
    )


def weekday_choices() -> list[tuple[int, str]]:
    return [
        (1, _l("Mon")),
        (2, _l("Tue")),
        (3, _l("Wed")),
        (4, _l("Thu")),
        (5, _l("Fri")),
        (6, _l("Sat")),
        (7, _l("Sun")),
    ]


class PlanForm(FlaskForm):
    goals = TextAreaField(_l("Goals"), validators=[Optional(), Length(max=4000)], filters=[strip])
    budget = DecimalField(_l("Budget"), places=2, validators=[Optional(), NumberRange(min=0)])
    risk_plan = TextAreaField(_l("Risk plan"), validators=[Optional(), Length(max=4000)], filters=[strip])
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    review_on = DateField(_l("Review date"), validators=[Optional()])


class PlanItemForm(FlaskForm):
    service_item_id = SelectField(_l("Service"), choices=[])
    weekdays = SelectMultipleField(
        _l("Days"),
        choices=weekday_choices,
        coerce=int,
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
    )
    start_time = StringField(
        _l("Start time"),
        validators=[DataRequired(), Length(max=5)],
        filters=[strip],
        render_kw={"type": "time"},
    )
    duration_minutes = IntegerField(
        _l("Duration (minutes)"), validators=[DataRequired(), NumberRange(5, 1440)]
    )
    preferred_staff = SelectMultipleField(_l("Preferred carers"), choices=[])
    notes = StringField(_l("Notes"), validators=[Optional(), Length(max=500)], filters=[strip])


class NoteForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)], filters=[strip])
