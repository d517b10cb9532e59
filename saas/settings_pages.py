"""Settings pages generated from the declarations (`saas.settings`): one form
builder, one template (`templates/settings/page.html`), one view helper that
each area's settings route calls with its page's name.

Every field is checked by `update_settings` (the one place that knows the
ranges), whose messages go next to their fields; the form itself only checks
the CSRF token. A page may add its own sections by extending the template."""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, Field, SelectField, SelectMultipleField, StringField
from wtforms.widgets import CheckboxInput, ListWidget

from saas.lifecycle import discard
from saas.settings import Kind, Setting, SettingsError, page_settings, settings_of, update_settings
from saas.tenancy import current_agency


class _ChoiceSet(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form: Any) -> None:  # the writer checks the choices
        pass


class _Choice(SelectField):
    def pre_validate(self, form: Any) -> None:  # the writer checks the choice
        pass


def _range_hint(setting: Setting) -> Any:
    if setting.kind not in (Kind.INT, Kind.DECIMAL, Kind.INT_LIST):
        return None
    if setting.min is not None and setting.max is not None:
        return _l("From %(min)s to %(max)s.", min=setting.min, max=setting.max)
    return None


def _field(setting: Setting) -> Field:
    label = setting.label
    help_text = setting.help or ""
    if setting.kind is Kind.BOOL:
        return BooleanField(label, description=help_text)
    if setting.kind is Kind.CHOICE:
        return _Choice(label, choices=list(setting.choices), description=help_text)
    if setting.kind is Kind.CHOICE_SET:
        return _ChoiceSet(label, choices=list(setting.choices), description=help_text)
    render_kw: dict[str, Any] = {}
    if setting.kind in (Kind.INT, Kind.DECIMAL):
        render_kw = {"inputmode": "numeric" if setting.kind is Kind.INT else "decimal"}
        if setting.min is not None:
            render_kw["data-min"] = setting.min
        if setting.max is not None:
            render_kw["data-max"] = setting.max
    elif setting.kind is Kind.TIME:
        render_kw = {"placeholder": "HH:MM", "maxlength": 5}
    field = StringField(label, description=help_text, render_kw=render_kw)
    return field


def form_class(settings: list[Setting]) -> type[FlaskForm]:
    """A form with one field per setting, named by its key."""
    attrs = {setting.key: _field(setting) for setting in settings}
    return type("SettingsForm", (FlaskForm,), attrs)


def _fill(form: FlaskForm, settings: list[Setting], values: Any) -> None:
    for setting in settings:
        value = values.get(setting.key)
        field = form[setting.key]
        if setting.kind in (Kind.BOOL, Kind.CHOICE_SET, Kind.CHOICE):
            field.data = list(value) if setting.kind is Kind.CHOICE_SET else value
        else:
            field.data = setting.text(value)


def _submitted(form: FlaskForm, settings: list[Setting]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for setting in settings:
        data = form[setting.key].data
        values[setting.key] = bool(data) if setting.kind is Kind.BOOL else data
    return values


def sections(form: FlaskForm, settings: list[Setting]) -> list[tuple[Any, list[tuple[Field, Any]]]]:
    """(heading, [(field, range hint)]) in declaration order; settings with no
    section come first under no heading."""
    grouped: dict[str, tuple[Any, list[tuple[Field, Any]]]] = {}
    for setting in settings:
        heading = setting.section
        key = str(heading) if heading is not None else ""
        grouped.setdefault(key, (heading, []))[1].append((form[setting.key], _range_hint(setting)))
    return list(grouped.values())


def settings_page(
    page: str,
    *,
    title: Any,
    endpoint: str,
    intro: Any = None,
    template: str = "settings/page.html",
    saved: Any = None,
    status: int | None = None,
    **context: Any,
) -> Any:
    """The GET and POST of one generated settings page (the caller checks the
    role). A refused value is shown next to its field with a 422, nothing saved;
    a saved page redirects to itself. With `status`, the page is only shown
    with the stored values (another form of the page was refused)."""
    agency = current_agency()
    settings = page_settings(page)
    # shown only: not bound to another form's post
    form = form_class(settings)(formdata=None) if status is not None else form_class(settings)()
    if status is not None or request.method == "GET":
        status = status or 200
        _fill(form, settings, settings_of(agency).values(s.key for s in settings))
    elif form.validate_on_submit():
        status = 422
        try:
            update_settings(agency, _submitted(form, settings))
        except SettingsError as exc:  # refused before anything was written
            discard()
            for key, message in exc.messages().items():
                form[key].errors.append(message)
        else:
            # the request commits at its end (saas.lifecycle)
            flash(str(saved) if saved else _("Settings saved."), "success")
            return redirect(url_for(endpoint))
    else:
        status = 422
    return render_template(
        template,
        form=form,
        sections=sections(form, settings),
        title=title,
        intro=intro,
        action=url_for(endpoint),
        **context,
    ), status
