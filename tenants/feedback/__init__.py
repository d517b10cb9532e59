"""Visit ratings, opinions and complaints, rectifications."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from saas.areas import Area, NavEntry, Periodic
from saas.models import Role
from saas.permissions import MANAGE_SETTINGS, USE_PORTAL, Permission
from saas.settings import Kind, Setting

HANDLE_RATINGS = Permission(
    "HANDLE_RATINGS",
    "Take a visit's rating by phone, send a rating link, follow up low ratings",
    (Role.ADMIN, Role.COORDINATOR),
)
HANDLE_COMPLAINTS = Permission(
    "HANDLE_COMPLAINTS",
    "Record opinions and complaints for someone, read them and take them to closure (pages and API)",
    (Role.ADMIN, Role.COORDINATOR),
)
READ_CONFIDENTIAL_FEEDBACK = Permission(
    "READ_CONFIDENTIAL_FEEDBACK", "Read the opinions and complaints marked confidential", (Role.ADMIN,)
)
MANAGE_RECTIFICATIONS = Permission(
    "MANAGE_RECTIFICATIONS",
    "Open rectifications and re-inspect them (never one's own)",
    (Role.ADMIN, Role.COORDINATOR),
)
VIEW_SATISFACTION = Permission(
    "VIEW_SATISFACTION", "The satisfaction page and its breakdowns", (Role.ADMIN, Role.COORDINATOR)
)

AREA = Area(
    "feedback",
    api_label=_l("Feedback and ratings"),
    models=(".models",),
    blueprints=(".views", ".links"),
    # the feedback blueprint's other pages (`views.bp`), and the API's routes
    routes=(".views_opinions", ".views_rectifications", ".views_statistics", ".views_ratings", ".api"),
    reminders=(".reminders",),
    receivers=(".receivers",),
    periodic=(
        Periodic("escalate_feedback", ".jobs.escalate_all", queue="high", interval=900),
        Periodic("feedback_due_soon", ".reminders.reminder_sweep", interval=900),
    ),
    nav=(
        NavEntry("feedback.inbox", _l("Opinions and complaints"), HANDLE_COMPLAINTS, 40, tab=3, icon="inbox"),
        NavEntry("feedback.tasks", _l("Low ratings to follow up"), HANDLE_RATINGS, 50),
        NavEntry("feedback.ratings", _l("Visit ratings"), HANDLE_RATINGS, 55),
        NavEntry("feedback.rectifications", _l("Rectifications"), MANAGE_RECTIFICATIONS, 60),
        NavEntry("feedback.statistics", _l("Satisfaction"), VIEW_SATISFACTION, 70),
        NavEntry(
            "feedback.portal_feedback", _l("Opinions and complaints"), USE_PORTAL, 160, tab=2, icon="inbox"
        ),
        NavEntry("feedback.settings_page", _l("Feedback settings"), MANAGE_SETTINGS, 180),
    ),
    dashboard=(".dashboard.office_figures", ".dashboard.client_panels"),
    permissions=(
        HANDLE_RATINGS,
        HANDLE_COMPLAINTS,
        READ_CONFIDENTIAL_FEEDBACK,
        MANAGE_RECTIFICATIONS,
        VIEW_SATISFACTION,
    ),
    url_params={
        "task_id": "feedback_tasks",
        "feedback_id": "feedback_items",
        "rectification_id": "rectifications",
    },
    samples=("tests.feedback.samples_feedback",),
    settings=(
        Setting(
            "low_rating_threshold",
            Kind.INT,
            2,
            _l("A rating is low when any score is at or below"),
            help=_l("A low rating opens a follow-up task for the carer's supervisor."),
            min=1,
            max=4,
            page="feedback",
        ),
        Setting(
            "feedback_response_days",
            Kind.INT,
            3,
            _l("Answer opinions and suggestions within (days)"),
            min=1,
            max=30,
            page="feedback",
        ),
        Setting(
            "complaint_response_days",
            Kind.INT,
            3,
            _l("Answer complaints within (days)"),
            min=1,
            max=30,
            page="feedback",
        ),
        Setting(
            "portal_feedback_visit_days",
            Kind.INT,
            30,
            _l("The portal's opinion form offers the visits of the last (days)"),
            min=1,
            max=365,
            page="feedback",
        ),
        Setting(
            "rating_link_email",
            Kind.BOOL,
            True,
            _l("Email clients a rating link when a visit is checked out"),
            page="feedback",
        ),
        Setting(
            "statistics_max_range_months",
            Kind.INT,
            24,
            _l("Longest range on the statistics page (months)"),
            min=1,
            max=60,
            page="feedback",
        ),
        # a correlation from a handful of ratings is noise that reads as a finding;
        # never under 3 (with 2 ratings r is always -1 or 1)
        Setting(
            "statistics_min_correlation_n",
            Kind.INT,
            30,
            _l("Fewest ratings for a correlation"),
            help=_l(
                "The satisfaction page shows the correlations between dimensions"
                " only from this many ratings in the range."
            ),
            min=3,
            max=10_000,
            page="feedback",
        ),
    ),
)
