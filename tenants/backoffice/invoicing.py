"""Invoices: who pays for each plan, drafts built from the visits delivered
(one SELECT for the whole period, lines inserted in bulk), adjustments,
issuing under a per-agency counter, credit notes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from sqlalchemy import (
    Numeric,
    and_,
    case,
    cast,
    delete,
    exists,
    extract,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import aliased

from saas import audit, db
from saas.models import Agency, User
from saas.settings import agency_setting
from tenants.backoffice.errors import BackOfficeError
from tenants.backoffice.models import (
    CareInvoice,
    CareInvoiceCounter,
    CareInvoiceLine,
    InvoiceKind,
    InvoiceStatus,
    LineKind,
    PayerKind,
    PaymentRule,
)
from tenants.catalogue.models import ServiceItem
from tenants.clients.models import Client, ServicePlan
from tenants.outreach.models import Funder
from tenants.scheduling.models import Visit, VisitStatus

MAX_PERIOD_DAYS = 62
CENT = Decimal("0.01")
BATCH = 1000


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


# -- who pays -----------------------------------------------------------------------------------


def set_payment_rule(
    plan_id: uuid.UUID, funder_id: uuid.UUID | None, percent: Any, *, by: User | None
) -> None:
    """The plan's visits are paid by the client (no funder), the funder
    (100%) or split (the funder's share, the client the rest)."""
    if db.session.scalar(select(ServicePlan.id).where(ServicePlan.id == plan_id)) is None:
        raise BackOfficeError("plan_unknown")
    share = Decimal(0)
    if funder_id is not None:
        if db.session.scalar(select(Funder.id).where(Funder.id == funder_id)) is None:
            raise BackOfficeError("funder_unknown", "funder_id")
        try:
            share = Decimal(str(percent).strip() or "100")
        except InvalidOperation:
            raise BackOfficeError("percent_range", "funder_percent") from None
        if not share.is_finite() or share <= 0 or share > 100 or share != money(share):
            raise BackOfficeError("percent_range", "funder_percent")
    elif str(percent or "").strip() not in ("", "0"):
        raise BackOfficeError("percent_without_funder", "funder_id")
    rule = db.session.scalar(select(PaymentRule).where(PaymentRule.plan_id == plan_id))
    if rule is None:
        rule = PaymentRule(plan_id=plan_id)
        db.session.add(rule)
    rule.funder_id, rule.funder_percent = funder_id, share
    audit.record(
        "payment_rule.set",
        str(plan_id),
        actor_id=by.id if by else None,
        funder_id=str(funder_id) if funder_id else None,
        funder_percent=str(share),
    )


def carry_rule_to_new_version(plan: ServicePlan) -> None:
    """A plan's new version keeps the rule of the latest earlier version of
    the same case that had one (unless it was given its own)."""
    earlier = aliased(ServicePlan)
    source = (
        select(PaymentRule.funder_id, PaymentRule.funder_percent)
        .join(earlier, and_(earlier.tenant_id == PaymentRule.tenant_id, earlier.id == PaymentRule.plan_id))
        .where(earlier.case_id == plan.case_id, earlier.version < plan.version)
        .order_by(earlier.version.desc())
        .limit(1)
    )
    found = db.session.execute(source).first()
    if found is None:
        return
    db.session.execute(
        pg_insert(PaymentRule)
        .values(
            tenant_id=plan.tenant_id,
            id=db.new_id(),
            plan_id=plan.id,
            funder_id=found[0],
            funder_percent=found[1],
            updated_at=db.utcnow(),
        )
        .on_conflict_do_nothing(index_elements=["tenant_id", "plan_id"])
    )


# -- building a draft -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Payer:
    kind: str  # PayerKind
    id: uuid.UUID


def parse_payer(value: str | None) -> Payer | None:
    """A payer choice "funder:<uuid>" or "client:<uuid>"."""
    kind, _sep, raw = (value or "").partition(":")
    if kind not in (PayerKind.FUNDER, PayerKind.CLIENT):
        return None
    try:
        return Payer(kind, uuid.UUID(raw))
    except ValueError:
        return None


def check_period(agency: Agency, start: date | None, end: date | None) -> tuple[date, date]:
    if start is None:
        raise BackOfficeError("required", "period_start")
    if end is None:
        raise BackOfficeError("required", "period_end")
    if end < start:
        raise BackOfficeError("period_order", "period_end")
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise BackOfficeError("period_too_long", "period_end", days=MAX_PERIOD_DAYS)
    if end > agency.today():
        raise BackOfficeError("period_future", "period_end")
    return start, end


def _same_payer(payer: Payer) -> Any:
    if payer.kind == PayerKind.FUNDER:
        return and_(CareInvoice.payer_kind == PayerKind.FUNDER, CareInvoice.funder_id == payer.id)
    return and_(CareInvoice.payer_kind == PayerKind.CLIENT, CareInvoice.client_id == payer.id)


def _refuse_overlap(
    payer: Payer, start: date, end: date, *, drafts: bool, skip: uuid.UUID | None = None
) -> None:
    """An issued invoice to the same payer overlapping the period, not
    credited, refuses it (so is an open draft when `drafts`)."""
    credit = aliased(CareInvoice)
    of_it = and_(
        credit.tenant_id == CareInvoice.tenant_id,
        credit.credits_invoice_id == CareInvoice.id,
        credit.status == InvoiceStatus.ISSUED,
    )
    taken = select(func.coalesce(-func.sum(credit.total), 0)).where(of_it).scalar_subquery()
    # credited in full by one credit note, or by partial ones that took all of
    # it; an invoice only partly credited still covers its period
    credited = or_(
        exists().where(of_it, credit.partial.is_(False)),
        and_(exists().where(of_it), taken >= CareInvoice.total),
    )
    stmt = (
        select(CareInvoice.status, CareInvoice.number, CareInvoice.period_start, CareInvoice.period_end)
        .where(
            _same_payer(payer),
            CareInvoice.kind == InvoiceKind.INVOICE,
            CareInvoice.period_start <= end,
            CareInvoice.period_end >= start,
            or_(CareInvoice.status == InvoiceStatus.DRAFT, ~credited),
        )
        .order_by(CareInvoice.status.desc())  # issued first
    )
    if skip is not None:
        stmt = stmt.where(CareInvoice.id != skip)
    for status, number, lo, hi in db.session.execute(stmt):
        if status == InvoiceStatus.ISSUED:
            raise BackOfficeError(
                "period_overlaps_issued",
                "period_start",
                number=format_number(InvoiceKind.INVOICE, number),
                start=lo.isoformat(),
                end=hi.isoformat(),
            )
        if drafts:
            raise BackOfficeError("period_overlaps_draft", "period_start")


def _payer_name(payer: Payer) -> str:
    if payer.kind == PayerKind.FUNDER:
        name = db.session.scalar(select(Funder.name).where(Funder.id == payer.id))
    else:
        name = db.session.scalar(select(Client.full_name).where(Client.id == payer.id))
    if name is None:
        raise BackOfficeError("payer_unknown", "payer")
    return name


def line_rows(agency: Agency, payer: Payer, start: date, end: date) -> Any:
    """The SELECT of a payer's lines for the period, whole: each delivered
    visit at the price it was booked at, each visit cancelled inside the
    agency's notice period at its share of that price, times the payer's
    share by the plan's rule (a visit without a plan, or a plan without a
    rule, is the client's alone)."""
    notice = timedelta(hours=int(agency_setting(agency, "late_cancellation_notice_hours")))
    charged = Decimal(int(agency_setting(agency, "late_cancellation_charge_percent")))
    funder_share = func.coalesce(PaymentRule.funder_percent, 0)
    if payer.kind == PayerKind.FUNDER:
        share = funder_share
        whose = PaymentRule.funder_id == payer.id
    else:
        share = 100 - funder_share
        whose = and_(Visit.client_id == payer.id, funder_share < 100)
    late = and_(Visit.status == VisitStatus.CANCELLED, Visit.cancelled_at > Visit.starts_at - notice)
    kind = case(
        (Visit.status == VisitStatus.COMPLETED, literal(LineKind.VISIT.value)),
        else_=literal(LineKind.LATE_CANCELLATION.value),
    )
    charge = case((Visit.status == VisitStatus.COMPLETED, literal(Decimal(100))), else_=literal(charged))
    hours = func.round(cast(extract("epoch", Visit.ends_at - Visit.starts_at) / 3600, Numeric(12, 4)), 2)
    quantity = case((Visit.unit == "per_hour", hours), else_=literal(Decimal(1)))
    amount = func.round(Visit.price * quantity * share * charge / 10000, 2)
    return (
        select(
            kind.label("kind"),
            Visit.id.label("visit_id"),
            Visit.client_id,
            Client.full_name.label("client_name"),
            ServiceItem.name.label("service_name"),
            Visit.local_day.label("day"),
            quantity.label("quantity"),
            Visit.unit,
            Visit.price.label("unit_price"),
            cast(share, Numeric(5, 2)).label("share_percent"),
            cast(charge, Numeric(5, 2)).label("charge_percent"),
            amount.label("amount"),
        )
        .join(Client, and_(Client.tenant_id == Visit.tenant_id, Client.id == Visit.client_id))
        .join(
            ServiceItem,
            and_(ServiceItem.tenant_id == Visit.tenant_id, ServiceItem.id == Visit.service_item_id),
        )
        .outerjoin(
            PaymentRule, and_(PaymentRule.tenant_id == Visit.tenant_id, PaymentRule.plan_id == Visit.plan_id)
        )
        .where(
            Visit.local_day >= start,
            Visit.local_day <= end,
            or_(Visit.status == VisitStatus.COMPLETED, late),
            whose,
            share > 0,
        )
        .order_by(Visit.local_day, Client.full_name, Visit.starts_at)
    )


def build_draft(
    agency: Agency, payer: Payer | None, start: date | None, end: date | None, *, by: User | None
) -> CareInvoice:
    if payer is None:
        raise BackOfficeError("payer_unknown", "payer")
    start, end = check_period(agency, start, end)
    name = _payer_name(payer)
    _refuse_overlap(payer, start, end, drafts=True)
    rows = db.session.execute(line_rows(agency, payer, start, end)).mappings().all()
    if not rows:
        raise BackOfficeError("nothing_to_invoice", "period_start")
    invoice = CareInvoice(
        kind=InvoiceKind.INVOICE,
        status=InvoiceStatus.DRAFT,
        payer_kind=payer.kind,
        funder_id=payer.id if payer.kind == PayerKind.FUNDER else None,
        client_id=payer.id if payer.kind == PayerKind.CLIENT else None,
        payer_name=name,
        period_start=start,
        period_end=end,
        total=sum((r["amount"] for r in rows), Decimal(0)),
        created_by_user_id=by.id if by else None,
    )
    db.session.add(invoice)
    db.session.flush()
    values = [
        {**r, "tenant_id": invoice.tenant_id, "id": db.new_id(), "invoice_id": invoice.id} for r in rows
    ]
    for at in range(0, len(values), BATCH):
        db.session.execute(insert(CareInvoiceLine), values[at : at + BATCH])
    audit.record(
        "invoice.drafted",
        str(invoice.id),
        actor_id=by.id if by else None,
        payer=payer.kind,
        period=f"{start.isoformat()}/{end.isoformat()}",
        lines=len(values),
        total=str(invoice.total),
    )
    return invoice


def delete_draft(invoice: CareInvoice, *, by: User | None) -> None:
    if invoice.status != InvoiceStatus.DRAFT:
        raise BackOfficeError("not_draft")
    db.session.execute(delete(CareInvoiceLine).where(CareInvoiceLine.invoice_id == invoice.id))
    db.session.delete(invoice)
    audit.record("invoice.draft_deleted", str(invoice.id), actor_id=by.id if by else None)


def parse_amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value or "").strip().replace(",", ""))
    except InvalidOperation:
        return None
    # adjusted(): the magnitude, read without arithmetic (which overflows on 9e99999999)
    if not amount.is_finite() or amount.is_zero() or amount.adjusted() >= 9 or amount != money(amount):
        return None
    return amount


def adjust(invoice: CareInvoice, amount: Any, reason: str, *, by: User | None) -> CareInvoiceLine:
    """An adjustment to a draft: who, why and how much, kept as a line and in
    the audit log."""
    if invoice.status != InvoiceStatus.DRAFT:
        raise BackOfficeError("not_draft")
    value = parse_amount(amount)
    if value is None or abs(invoice.total + value) >= Decimal("1e10"):  # what the total column holds
        raise BackOfficeError("amount_invalid", "amount")
    reason = (reason or "").strip()
    if not reason:
        raise BackOfficeError("reason_required", "reason")
    line = CareInvoiceLine(
        invoice_id=invoice.id,
        kind=LineKind.ADJUSTMENT,
        quantity=Decimal(1),
        unit_price=value,
        amount=value,
        reason=reason[:2000],
        by_user_id=by.id if by else None,
    )
    db.session.add(line)
    invoice.total = money(invoice.total + value)
    audit.record(
        "invoice.adjusted",
        str(invoice.id),
        actor_id=by.id if by else None,
        amount=str(value),
        reason=reason[:500],
    )
    return line


def format_number(kind: str, number: int | None) -> str:
    if number is None:
        return ""
    return f"{'CN' if kind == InvoiceKind.CREDIT_NOTE else 'INV'}-{number:06d}"


def _next_number(tenant_id: uuid.UUID, kind: str) -> int:
    """The kind's next number, its counter row locked until the issuing
    transaction ends: concurrent issues wait here, one after the other, and a
    rollback gives the number back."""
    db.session.execute(
        pg_insert(CareInvoiceCounter)
        .values(tenant_id=tenant_id, id=db.new_id(), kind=kind, last_number=0)
        .on_conflict_do_nothing(index_elements=["tenant_id", "kind"])
    )
    # UPDATE takes the row's lock (as SELECT ... FOR UPDATE would) and holds it to the end
    number = db.session.execute(
        update(CareInvoiceCounter)
        .where(CareInvoiceCounter.kind == kind)
        .values(last_number=CareInvoiceCounter.last_number + 1)
        .returning(CareInvoiceCounter.last_number)
    ).scalar_one()
    return int(number)


def _lock(invoice_id: uuid.UUID) -> CareInvoice:
    row = db.session.scalar(
        select(CareInvoice)
        .where(CareInvoice.id == invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise BackOfficeError("not_draft")
    return row


def issue(invoice_id: uuid.UUID, *, by: User | None) -> CareInvoice:
    """Number the draft and freeze it. The counter is taken first, so issues
    in the agency run one at a time from here, and the overlap is checked
    again under it (two drafts built side by side cannot both be issued)."""
    invoice = db.session.scalar(select(CareInvoice).where(CareInvoice.id == invoice_id))
    if invoice is None or invoice.status != InvoiceStatus.DRAFT:
        raise BackOfficeError("not_draft")
    number = _next_number(invoice.tenant_id, invoice.kind)
    invoice = _lock(invoice_id)
    if invoice.status != InvoiceStatus.DRAFT:
        raise BackOfficeError("not_draft")
    payer = Payer(invoice.payer_kind, invoice.funder_id or invoice.client_id)  # type: ignore[arg-type]
    if invoice.kind == InvoiceKind.INVOICE:
        _refuse_overlap(payer, invoice.period_start, invoice.period_end, drafts=False, skip=invoice.id)
    total = db.session.scalar(
        select(func.coalesce(func.sum(CareInvoiceLine.amount), 0)).where(
            CareInvoiceLine.invoice_id == invoice.id
        )
    )
    invoice.total = Decimal(total)
    invoice.number = number
    invoice.status = InvoiceStatus.ISSUED
    invoice.issued_at = db.utcnow()
    invoice.issued_by_user_id = by.id if by else None
    db.session.flush()
    audit.record(
        "invoice.issued",
        str(invoice.id),
        actor_id=by.id if by else None,
        number=format_number(invoice.kind, number),
        total=str(invoice.total),
    )
    return invoice


COPIED = (
    "tenant_id",
    "visit_id",
    "client_id",
    "client_name",
    "service_name",
    "day",
    "quantity",
    "unit",
    "share_percent",
    "charge_percent",
)


def _credit_line(
    line: CareInvoiceLine, note_id: uuid.UUID, amount: Decimal, by: User | None
) -> dict[str, Any]:
    """The credit note's line for `amount` of `line`: the whole line reversed
    as it was (quantity, price, shares), or a part of it as one amount."""
    values: dict[str, Any] = {
        **{name: getattr(line, name) for name in COPIED},
        "id": db.new_id(),
        "invoice_id": note_id,
        "kind": LineKind.CREDIT,
        "credits_line_id": line.id,
        "reason": line.reason,
        "by_user_id": by.id if by else None,
    }
    if amount == line.amount:
        values.update(unit_price=-line.unit_price, amount=-line.amount)
    else:
        values.update(
            quantity=Decimal(1),
            unit="per_visit",
            unit_price=-amount,
            share_percent=Decimal(100),
            charge_percent=Decimal(100),
            amount=-amount,
        )
    return values


def credited_by_line(invoice_id: uuid.UUID) -> dict[uuid.UUID, Decimal]:
    """What the credit notes took from each line of an invoice so far (a
    positive amount), in one statement."""
    credit_line = aliased(CareInvoiceLine)
    rows = db.session.execute(
        select(CareInvoiceLine.id, func.coalesce(-func.sum(credit_line.amount), 0))
        .outerjoin(
            credit_line,
            and_(
                credit_line.tenant_id == CareInvoiceLine.tenant_id,
                credit_line.credits_line_id == CareInvoiceLine.id,
            ),
        )
        .where(CareInvoiceLine.invoice_id == invoice_id)
        .group_by(CareInvoiceLine.tenant_id, CareInvoiceLine.id)
    )
    return {line_id: Decimal(taken) for line_id, taken in rows}


def _creditable(invoice_id: uuid.UUID) -> CareInvoice:
    """The issued invoice, locked FOR UPDATE until the transaction ends: two
    credit notes of the same invoice are made one after the other, each
    seeing what the other took (so together they never exceed a line)."""
    original = db.session.scalar(
        select(CareInvoice)
        .where(CareInvoice.id == invoice_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if original is None or original.status != InvoiceStatus.ISSUED:
        raise BackOfficeError("not_issued")
    if original.kind != InvoiceKind.INVOICE:
        raise BackOfficeError("not_an_invoice")
    full = db.session.scalar(
        select(CareInvoice.id).where(
            CareInvoice.credits_invoice_id == original.id, CareInvoice.partial.is_(False)
        )
    )
    if full is not None:
        raise BackOfficeError("already_credited")
    return original


def _new_note(original: CareInvoice, reason: str, *, partial: bool, by: User | None) -> CareInvoice:
    note = CareInvoice(
        kind=InvoiceKind.CREDIT_NOTE,
        status=InvoiceStatus.DRAFT,
        payer_kind=original.payer_kind,
        funder_id=original.funder_id,
        client_id=original.client_id,
        payer_name=original.payer_name,
        period_start=original.period_start,
        period_end=original.period_end,
        credits_invoice_id=original.id,
        partial=partial,
        total=Decimal(0),
        note=reason[:2000],
        created_by_user_id=by.id if by else None,
    )
    db.session.add(note)
    db.session.flush()
    return note


def _insert(values: list[dict[str, Any]]) -> None:
    for at in range(0, len(values), BATCH):
        db.session.execute(insert(CareInvoiceLine), values[at : at + BATCH])


def credit(invoice_id: uuid.UUID, reason: str, *, by: User | None) -> CareInvoice:
    """A credit note reversing what remains of every line of an issued
    invoice (all of it, unless partial credit notes took some already),
    issued at once with its own number; the period may then be invoiced
    again."""
    reason = (reason or "").strip()
    if not reason:
        raise BackOfficeError("reason_required", "reason")
    original = _creditable(invoice_id)
    taken = credited_by_line(original.id)
    rows = db.session.scalars(select(CareInvoiceLine).where(CareInvoiceLine.invoice_id == original.id)).all()
    note = _new_note(original, reason, partial=False, by=by)
    values = [
        _credit_line(line, note.id, line.amount - taken.get(line.id, Decimal(0)), by)
        for line in rows
        if line.amount - taken.get(line.id, Decimal(0)) != 0
    ]
    if not values:
        raise BackOfficeError("nothing_to_credit")
    _insert(values)
    note.total = sum((v["amount"] for v in values), Decimal(0))
    audit.record("invoice.credited", str(original.id), actor_id=by.id if by else None, reason=reason[:500])
    return issue(note.id, by=by)


@dataclass(frozen=True)
class CreditRequest:
    """One line chosen for a partial credit note: its id (as sent), and the
    amount to credit (as sent; None or blank for all that remains of it)."""

    line_id: Any
    amount: Any = None
    # the field its refusals are named by (a page's own row); by default
    # `lines-<i>`, its place among the lines sent
    field: str | None = None


def credit_lines(
    invoice_id: uuid.UUID, chosen: list[CreditRequest], reason: str, *, by: User | None
) -> CareInvoice:
    """A partial credit note: for each chosen line of an issued invoice, the
    amount given (or all that remains of it), never more than what earlier
    credit notes left uncredited on that line. Issued at once, numbered in
    the agency's one sequence of credit notes. Refusals name the field
    `lines-<i>-amount` (or `-line_id`) of the chosen line at fault, so the
    page and the API put them next to it; nothing is kept."""
    reason = (reason or "").strip()
    original = _creditable(invoice_id)
    errors: list[BackOfficeError] = []
    if not reason:
        errors.append(BackOfficeError("reason_required", "reason"))
    lines = {
        line.id: line
        for line in db.session.scalars(
            select(CareInvoiceLine).where(CareInvoiceLine.invoice_id == original.id)
        )
    }
    taken = credited_by_line(original.id)
    picked: list[tuple[CareInvoiceLine, Decimal]] = []
    seen: set[uuid.UUID] = set()
    for i, want in enumerate(chosen):
        at = want.field or f"lines-{i}"
        try:
            line_id = want.line_id if isinstance(want.line_id, uuid.UUID) else uuid.UUID(str(want.line_id))
        except ValueError:
            line_id = None
        line = lines.get(line_id) if line_id is not None else None
        if line is None or line_id in seen:
            errors.append(BackOfficeError("line_unknown", f"{at}-line_id"))
            continue
        seen.add(line.id)
        remaining = line.amount - taken.get(line.id, Decimal(0))
        if line.amount <= 0:
            errors.append(BackOfficeError("line_not_creditable", f"{at}-amount"))
            continue
        if want.amount is None or str(want.amount).strip() == "":
            amount: Decimal | None = remaining
        else:
            amount = parse_amount(want.amount)
            if amount is None or amount <= 0:
                errors.append(BackOfficeError("credit_amount_invalid", f"{at}-amount"))
                continue
        if remaining <= 0:
            errors.append(BackOfficeError("line_fully_credited", f"{at}-amount"))
            continue
        if amount > remaining:
            errors.append(BackOfficeError("over_credit", f"{at}-amount", remaining=str(remaining)))
            continue
        picked.append((line, amount))
    if not picked and not errors:
        errors.append(BackOfficeError("lines_required", "lines"))
    if errors:
        raise BackOfficeError.many(errors)
    already = -(
        db.session.scalar(
            select(func.coalesce(func.sum(CareInvoice.total), 0)).where(
                CareInvoice.credits_invoice_id == original.id
            )
        )
        or Decimal(0)
    )
    asked = sum((amount for _line, amount in picked), Decimal(0))
    if Decimal(already) + asked > original.total:
        # a reduction line cannot be credited, so the lines together may
        # hold more than the invoice's total: never credit beyond it
        raise BackOfficeError("over_invoice", "lines", remaining=str(original.total - Decimal(already)))
    note = _new_note(original, reason, partial=True, by=by)
    values = [_credit_line(line, note.id, amount, by) for line, amount in picked]
    _insert(values)
    note.total = -asked
    audit.record(
        "invoice.partly_credited",
        str(original.id),
        actor_id=by.id if by else None,
        reason=reason[:500],
        lines=len(values),
        amount=str(asked),
    )
    return issue(note.id, by=by)
