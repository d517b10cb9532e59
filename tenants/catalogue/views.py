"""Catalogue pages: the item list, items and their dated terms, categories,
presets, import and export."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from saas.fields import uuid_or_none
from saas.lifecycle import attempt, form_status
from saas.permissions import can, require
from saas.tenancy import current_agency, get_or_404
from tenants.catalogue import MANAGE_CATALOGUE, VIEW_CATALOGUE, queries, services
from tenants.catalogue.forms import CategoryForm, ItemForm, NewItemForm, PresetForm, TermsForm
from tenants.catalogue.imports import CATALOGUE_COLUMNS
from tenants.catalogue.models import ItemTerms, ServiceCategory, ServiceItem
from tenants.catalogue.presets import PRESETS
from tenants.spreadsheets import csv_response
from tenants.staffing import services as staffing
from tenants.staffing.labels import choices as label_choices
from tenants.staffing.pages import import_upload
from tenants.staffing.settings import local_today

bp = Blueprint("catalogue", __name__, url_prefix="/a/<slug>")


def _language() -> str:
    agency = current_agency()
    return "zh" if (agency.locale or "").startswith("zh") else "en"


def _type_names() -> dict[uuid.UUID, str]:
    return {t.id: t.name for t in staffing.certificate_types()}


@bp.route("/catalogue")
@require(VIEW_CATALOGUE)
def index() -> Any:
    q = (request.args.get("q") or "").strip()[:100]
    category = request.args.get("category") or ""
    status = request.args.get("status") or "active"
    page = queries.catalogue_page(q, category, status)
    today = local_today()
    terms = services.terms_on([item.id for item, _name in page.items], today)
    return render_template(
        "catalogue/index.html",
        page=page,
        terms=terms,
        type_names=_type_names(),
        categories=services.categories(),
        q=q,
        category=category,
        status=status,
        empty=not page.items and not q and not category and services.catalogue_is_empty(),
        is_admin=can(MANAGE_CATALOGUE),
    )


# -- items --------------------------------------------------------------------------------


def _category_choices(form: ItemForm) -> None:
    form.category_id.choices = [("", _("Choose…"))] + [(str(c.id), c.name) for c in services.categories()]


def _qualification_choices(form: Any) -> None:
    form.required_certificate_type_id.choices = [("", _("None"))] + [
        (str(t.id), t.name) for t in staffing.certificate_types(active_only=True)
    ]


def _item_input(form: ItemForm) -> services.ItemInput:
    return services.ItemInput(
        category_id=uuid_or_none(form.category_id.data),
        name=form.name.data or "",
        description=form.description.data or "",
        scope_included=form.scope_included.data or "",
        scope_excluded=form.scope_excluded.data or "",
    )


def _terms_input(form: Any) -> services.TermsInput:
    return services.TermsInput(
        price=form.price.data,
        unit=form.unit.data,
        duration_minutes=form.duration_minutes.data,
        checklist=services.checklist_from_text(form.checklist.data or ""),
        required_certificate_type_id=uuid_or_none(form.required_certificate_type_id.data),
    )


@bp.route("/catalogue/items/new", methods=["GET", "POST"])
@require(MANAGE_CATALOGUE)
def new_item() -> Any:
    form = NewItemForm()
    _category_choices(form)
    _qualification_choices(form)
    if request.method == "GET" and request.args.get("category"):
        form.category_id.data = request.args.get("category")
    created: list[ServiceItem] = []
    if form.validate_on_submit() and attempt(
        form,
        lambda: created.append(services.create_item(_item_input(form), _terms_input(form), by=current_user)),
    ):
        flash(_("Item added to the catalogue."), "success")
        return redirect(url_for("catalogue.item", item_id=created[0].id))
    return render_template("catalogue/item_form.html", form=form, item=None), (form_status())


@bp.route("/catalogue/items/<uuid:item_id>")
@require(VIEW_CATALOGUE)
def item(item_id: uuid.UUID) -> Any:
    row = get_or_404(ServiceItem, item_id)
    category = get_or_404(ServiceCategory, row.category_id)
    today = local_today()
    history = services.terms_history(row.id)
    current = next((t for t in history if t.effective_from <= today), None)
    return render_template(
        "catalogue/item.html",
        item=row,
        category=category,
        history=history,
        current=current,
        today=today,
        type_names=_type_names(),
        is_admin=can(MANAGE_CATALOGUE),
    )


@bp.route("/catalogue/items/<uuid:item_id>/edit", methods=["GET", "POST"])
@require(MANAGE_CATALOGUE)
def edit_item(item_id: uuid.UUID) -> Any:
    row = get_or_404(ServiceItem, item_id)
    form = ItemForm(obj=row)
    _category_choices(form)
    if request.method == "GET":
        form.category_id.data = str(row.category_id)
    if form.validate_on_submit() and attempt(form, lambda: services.update_item(row, _item_input(form))):
        flash(_("Item saved."), "success")
        return redirect(url_for("catalogue.item", item_id=row.id))
    return render_template("catalogue/item_form.html", form=form, item=row), (form_status())


@bp.route("/catalogue/items/<uuid:item_id>/terms", methods=["GET", "POST"])
@require(MANAGE_CATALOGUE)
def change_terms(item_id: uuid.UUID) -> Any:
    row = get_or_404(ServiceItem, item_id)
    form = TermsForm()
    _qualification_choices(form)
    today = local_today()
    current = services.terms_on(row.id, today).get(row.id)
    if request.method == "GET" and current is not None:
        form.price.data = current.price
        form.unit.data = current.unit
        form.duration_minutes.data = current.duration_minutes
        form.checklist.data = "\n".join(current.checklist or [])
        form.required_certificate_type_id.data = str(current.required_certificate_type_id or "")
        form.effective_from.data = today
    if form.validate_on_submit() and attempt(
        form,
        lambda: services.change_terms(row, form.effective_from.data, _terms_input(form), by=current_user),
    ):
        flash(_("New terms saved from %(day)s.", day=form.effective_from.data), "success")
        return redirect(url_for("catalogue.item", item_id=row.id))
    return render_template("catalogue/terms_form.html", form=form, item=row, current=current), (form_status())


@bp.route("/catalogue/terms/<uuid:terms_id>/delete", methods=["POST"])
@require(MANAGE_CATALOGUE)
def delete_terms(terms_id: uuid.UUID) -> Any:
    row = get_or_404(ItemTerms, terms_id)
    item_id = row.item_id
    form = CategoryForm()  # CSRF only
    form.validate_on_submit()
    if attempt(form, lambda: services.delete_future_terms(row)):
        flash(_("Planned terms deleted."), "success")
    return redirect(url_for("catalogue.item", item_id=item_id))


@bp.route("/catalogue/items/<uuid:item_id>/retire", methods=["POST"])
@require(MANAGE_CATALOGUE)
def retire_item(item_id: uuid.UUID) -> Any:
    row = get_or_404(ServiceItem, item_id)
    services.set_item_active(row, False)
    flash(_("Item retired: it can no longer be added to plans."), "success")
    return redirect(url_for("catalogue.item", item_id=row.id))


@bp.route("/catalogue/items/<uuid:item_id>/reactivate", methods=["POST"])
@require(MANAGE_CATALOGUE)
def reactivate_item(item_id: uuid.UUID) -> Any:
    row = get_or_404(ServiceItem, item_id)
    services.set_item_active(row, True)
    flash(_("Item back in the catalogue."), "success")
    return redirect(url_for("catalogue.item", item_id=row.id))


# -- categories ------------------------------------------------------------------------------


@bp.route("/catalogue/categories", methods=["GET", "POST"])
@require(MANAGE_CATALOGUE)
def categories() -> Any:
    form = CategoryForm()
    if form.validate_on_submit() and attempt(form, lambda: services.create_category(form.name.data)):
        flash(_("Category added."), "success")
        return redirect(url_for("catalogue.categories"))
    return render_template(
        "catalogue/categories.html", form=form, categories=services.categories(), counts=queries.item_counts()
    ), form_status()


@bp.route("/catalogue/categories/<uuid:category_id>/rename", methods=["POST"])
@require(MANAGE_CATALOGUE)
def rename_category(category_id: uuid.UUID) -> Any:
    category = get_or_404(ServiceCategory, category_id)
    form = CategoryForm()
    if form.validate_on_submit() and attempt(
        form, lambda: services.rename_category(category, form.name.data)
    ):
        flash(_("Category renamed."), "success")
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
    return redirect(url_for("catalogue.categories"))


@bp.route("/catalogue/categories/<uuid:category_id>/delete", methods=["POST"])
@require(MANAGE_CATALOGUE)
def delete_category(category_id: uuid.UUID) -> Any:
    category = get_or_404(ServiceCategory, category_id)
    form = CategoryForm()
    form.validate_on_submit()
    if attempt(form, lambda: services.delete_category(category)):
        flash(_("Category deleted."), "success")
    else:
        for message in form.name.errors:
            flash(message, "error")
    return redirect(url_for("catalogue.categories"))


# -- presets ----------------------------------------------------------------------------------


def job_role_labels() -> dict[str, str]:
    return dict(label_choices("staff_role"))


@bp.route("/catalogue/presets", methods=["GET", "POST"])
@require(MANAGE_CATALOGUE)
def presets() -> Any:
    form = PresetForm()
    language = _language()
    form.preset.choices = [(key, p.title[language]) for key, p in PRESETS.items()]
    if form.validate_on_submit():
        counted: list[int] = []
        if attempt(
            form,
            lambda: counted.append(
                services.load_preset(
                    current_agency(),
                    form.preset.data,
                    by=current_user,
                    require_certificates=bool(form.require_certificates.data),
                )
            ),
        ):
            flash(_("%(count)d items loaded. Review the prices before use.", count=counted[0]), "success")
            return redirect(url_for("catalogue.index"))
    return render_template(
        "catalogue/presets.html",
        form=form,
        presets=PRESETS,
        language=language,
        role_labels=job_role_labels(),
        empty=services.catalogue_is_empty(),
    ), form_status()


# -- import and export ---------------------------------------------------------------------------


@bp.route("/catalogue/import", methods=["GET", "POST"])
@require(MANAGE_CATALOGUE)
def import_items() -> Any:
    return import_upload("catalogue")


@bp.route("/catalogue/import/template.csv")
@require(MANAGE_CATALOGUE)
def import_template() -> Any:
    return csv_response("catalogue-template.csv", [c.key for c in CATALOGUE_COLUMNS], [])


@bp.route("/catalogue/export.csv")
@require(VIEW_CATALOGUE)
def export() -> Any:
    rows = queries.export_rows(local_today())
    type_names = _type_names()
    return csv_response(
        "catalogue.csv",
        [c.key for c in CATALOGUE_COLUMNS],
        (
            [
                r[1],
                r[0].name,
                r[0].description,
                r[0].scope_included,
                r[0].scope_excluded,
                r.duration_minutes if r.duration_minutes is not None else "",
                r.price if r.price is not None else "",
                r.unit or "",
                "\n".join(r.checklist or []),
                type_names.get(r.required_certificate_type_id, "") if r.required_certificate_type_id else "",
                "yes" if r[0].active else "no",
            ]
            for r in rows
        ),
    )
