"""Email: written to the database with the change that causes it, delivered
by a job after commit. Without SMTP_URL messages stay in the database and
operators read them at /operator/outbox.

A body that carries a link (a password reset, an invitation, a personal rating
or survey link) is kept no longer than delivery needs: cleared once the SMTP
server took it, and by a daily sweep when delivery gave up. Kept messages (no
SMTP: the operator outbox is how they are read) stay whole.

The Message-ID is derived from the row, so a message sent again after a worker
died between the SMTP hand-over and its commit carries the same Message-ID
and the recipient's mail program shows it once."""

from __future__ import annotations

import re
import smtplib
import ssl
import uuid
from datetime import timedelta
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import unquote, urlparse

from flask import current_app, render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from saas import db
from saas.i18n import agency_language
from saas.jobs import enqueue, job, periodic
from saas.labels import Labels
from saas.models import Agency, MailMessage

# what each delivery state reads as on the operators' outbox
STATUSES = Labels(
    {
        "queued": _l("Waiting to be sent"),
        "sent": _l("Sent"),
        "kept": _l("Kept here (no mail server)"),
        "failed": _l("Not delivered"),
    },
    fallback=_l("Unknown"),
)

LINK = re.compile(r"https?://", re.IGNORECASE)
# retries end within the hour (saas.jobs.RETRY); operators may retry a failed
# delivery from the jobs page for a week
UNDELIVERED_LINKS_KEPT = timedelta(days=7)


def send(
    to: str,
    template: str,
    *,
    locale: str = "en",
    kind: str,
    agency_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
    **context: object,
) -> uuid.UUID | None:
    """Queue an email rendered from `templates/mail/<template>.txt`.

    Every mail template extends `mail/_base.txt`: its `subject` block is the
    first line, the subject; the greeting and its `body` block follow.
    With a dedupe key the same message is queued at most once, ever. Returns
    the message id, or None when the dedupe key had already been used.
    """
    # in the recipient's language, written as their agency writes dates and numbers
    agency = db.session.get(Agency, agency_id) if agency_id is not None else None
    with agency_language(locale, agency):
        rendered = render_template(f"mail/{template}.txt", **context).strip("\n")
    subject, _, body = rendered.partition("\n")
    message_id = db.new_id()
    stmt = (
        insert(MailMessage)
        .values(
            id=message_id,
            agency_id=agency_id,
            to_address=to,
            subject=subject.strip(),
            body=body.strip() + "\n",
            kind=kind,
            dedupe_key=dedupe_key,
            created_at=db.utcnow(),
            status="queued",
            error="",
        )
        .on_conflict_do_nothing(index_elements=["dedupe_key"])
        .returning(MailMessage.id)
    )
    inserted = db.session.scalar(stmt)
    if inserted is None:
        return None
    enqueue("mail.deliver", agency_id=agency_id, queue="high", message_id=inserted)
    return inserted


@job("mail.deliver")
def deliver(message_id: str) -> None:
    msg = db.session.scalar(
        select(MailMessage).where(MailMessage.id == uuid.UUID(message_id)).with_for_update()
    )
    if msg is None or msg.sent_at is not None or msg.status == "kept":
        return
    smtp_url = current_app.config.get("SMTP_URL")
    if not smtp_url:
        msg.status = "kept"
        return
    email = EmailMessage()
    email["From"] = current_app.config["MAIL_FROM"]
    email["To"] = msg.to_address
    email["Subject"] = msg.subject
    email["Message-ID"] = message_id_header(msg.id)
    email.set_content(msg.body)
    _smtp_send(smtp_url, email)
    msg.status = "sent"
    msg.sent_at = db.utcnow()
    if carries_link(msg.body):
        msg.body = ""  # delivered: the link now lives only in the recipient's mailbox


def carries_link(body: str) -> bool:
    return bool(LINK.search(body))


def message_id_header(message_id: uuid.UUID) -> str:
    """The same for every attempt at one message: the row's id at the sender's domain."""
    domain = parseaddr(current_app.config["MAIL_FROM"])[1].rpartition("@")[2]
    domain = domain or urlparse(current_app.config.get("BASE_URL", "")).hostname or "carehub.invalid"
    return f"<{message_id.hex}@{domain}>"


@periodic
def clear_undelivered_links() -> int:
    """Daily: a link in a message delivery gave up on is not kept either."""
    n = db.session.execute(
        update(MailMessage)
        .where(
            MailMessage.status != "kept",
            MailMessage.created_at < db.utcnow() - UNDELIVERED_LINKS_KEPT,
            MailMessage.body.regexp_match("https?://", flags="i"),
        )
        .values(body="")
        .execution_options(synchronize_session=False)
    ).rowcount
    return n or 0


def _smtp_send(smtp_url: str, email: EmailMessage) -> None:
    """SMTP_URL: smtp://user:pass@host:port, smtps:// for TLS, smtp+starttls://."""
    url = urlparse(smtp_url)
    port = url.port or (465 if url.scheme == "smtps" else 25)
    host = url.hostname or "localhost"
    if url.scheme == "smtps":
        client: smtplib.SMTP = smtplib.SMTP_SSL(host, port, context=ssl.create_default_context(), timeout=20)
    else:
        client = smtplib.SMTP(host, port, timeout=20)
    with client:
        if url.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        if url.username:
            client.login(unquote(url.username), unquote(url.password or ""))
        client.send_message(email)
