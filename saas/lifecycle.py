"""One request lifecycle: every request, job and command commits once, at its end.

Views, API routes, jobs and commands never commit or roll back themselves:

- a request is committed after its view, when its answer is a success
  (status under 400) and it was not refused; anything else is rolled back. A
  commit that fails (a unique key taken by a request at the same moment) is
  rolled back and answered with an error page, never the success made before;
- `refuse(form, exc)` is what a view does with a `DomainError`: nothing of the
  change is kept, the request is marked refused (so a form shown again with
  200 commits nothing) and the message goes next to its field;
- a `DomainError` escaping a view is rolled back and answered with its
  message and status (the API's error document under /api/);
- a job or a command runs in `unit_of_work()`.

The error pages are made here too: what a request answers when it fails is
part of how it ends.
"""

from __future__ import annotations

import contextlib
import logging
import traceback
from collections.abc import Callable, Sequence
from typing import Any

import sentry_sdk
from flask import Flask, current_app, flash, g, render_template, request, session
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import ORMExecuteState, Session, SessionTransaction
from werkzeug.exceptions import HTTPException

from saas import db, jobs
from saas.db import unit_of_work as unit_of_work  # jobs' and commands' transaction, re-exported
from saas.errors import DomainError, error_message
from saas.extensions import login_manager
from saas.problems import problem as problem_document
from saas.sweeps import watch_from_web

log = logging.getLogger(__name__)

_REFUSED = "request_refused"
_WROTE = "lifecycle_wrote"
_KEPT = "request_kept"


# -- refusals ------------------------------------------------------------------------


def mark_refused() -> None:
    """Nothing this request wrote is kept, whatever it answers."""
    g.setdefault(_REFUSED, True)


def is_refused() -> bool:
    return bool(g.get(_REFUSED))


def discard() -> None:
    """Keep nothing of this request, whatever it answers: for a failure that
    is not a rule's (a payment provider out of reach) shown on a page."""
    rollback()
    mark_refused()


def keep() -> None:
    """Commit what this request wrote even though it answers an error (a
    failed sign-in is recorded though its page says no). A refusal still
    keeps nothing."""
    g.setdefault(_KEPT, True)


def refuse(form: Any, exc: DomainError) -> None:
    """A rule refused the change the form asked for: roll back what was
    written, keep nothing at the request's end, and show each message next to
    its field (a dash path reaches into lists: "contacts-0-phone"), or flash
    it when the form has no such field (or there is no form)."""
    discard()
    for problem in exc.by_field():
        message = error_message(problem)
        target = field_of(form, problem.field)
        if target is None:
            flash(message, "error")
            continue
        if not isinstance(target.errors, list):
            # a field not validated in this request has a tuple
            target.errors = list(target.errors)
        target.errors.append(message)


def form_status() -> int:
    """The status of a form page: 200 when it is asked for, 422 when a post
    shows it again (a refused or invalid form: nothing is kept)."""
    return 422 if request.method == "POST" else 200


def attempt(form: Any, action: Callable[[], object]) -> bool:
    """Run a service call for a page: True when it went through; when a rule
    refuses it, `refuse(form, exc)` (nothing kept, the messages next to the
    form's fields, the rest as flashes) and False. The request commits what a
    call kept once the page answers."""
    try:
        action()
    except DomainError as exc:
        refuse(form, exc)
        return False
    return True


def field_of(form: Any, path: str | None) -> Any | None:
    """The form's field at `path` ("name", "contacts-0-phone"), or None."""
    if form is None or not path:
        return None
    target = form
    for part in path.split("-"):
        try:
            target = target[int(part)] if part.isdigit() else target[part]
        except (KeyError, IndexError, TypeError, AttributeError):
            return None
    return target if hasattr(target, "errors") else None


def rollback(sess: Session | None = None) -> None:
    """Roll back; a connection the database dropped is discarded instead."""
    try:
        (sess or db.session()).rollback()
    except Exception:  # noqa: BLE001 - the connection is gone (a database restart)
        if sess is None:
            release_session()


# -- the request's end -------------------------------------------------------------------


def release_session() -> None:
    """End the request's session whatever became of its connection: after a
    database restart, closing it can fail; then it is dropped, and the pool
    (which SQLAlchemy invalidated when it saw the disconnect) connects anew."""
    try:
        db.session.remove()
    except Exception as error:  # noqa: BLE001
        log.warning("database session dropped: %s", type(error).__name__)
        with contextlib.suppress(Exception):
            db.session().invalidate()
        db.session.registry.clear()


def as_visitor() -> None:
    """Show the rest of this request's pages as to a visitor: no agency, nobody
    signed in, so rendering reads nothing from the database."""
    release_session()
    for key in ("agency", "membership", "agency_public"):
        g.pop(key, None)
    g._login_user = login_manager.anonymous_user()


def wants_json() -> bool:
    return request.path.startswith("/api/")


MESSAGES: dict[int, Callable[[], str]] = {
    400: lambda: _("The request could not be understood."),
    403: lambda: _("You do not have access to this page."),
    404: lambda: _("This page does not exist, or you do not have access to it."),
    405: lambda: _("This action is not allowed here."),
    409: lambda: _("Someone else changed this at the same moment. Nothing was saved; try again."),
    413: lambda: _("What you sent is too large."),
    429: lambda: _("Too many attempts. Wait a few minutes and try again."),
    500: lambda: _("Something went wrong on our side. It has been reported."),
}


def render_error(
    code: int,
    message: str | None = None,
    field: str | None = None,
    errors: Sequence[tuple[str | None, str]] = (),
) -> Any:
    """The error page (under /api/, the API's problem document) with `code`."""

    def page() -> Any:
        text = message or MESSAGES.get(code, lambda: _("The request could not be completed."))()
        if wants_json():
            return problem_document(code, text, field, errors)
        return render_template("errors/error.html", code=code, message=text), code

    try:
        return page()
    except Exception as error:  # noqa: BLE001
        # the page around the message reads the database (who is signed in,
        # their language, the agency, the bell), which may be what failed:
        # show it as to a visitor
        as_visitor()
        log.warning("error page shown as to a visitor: %s", type(error).__name__)
        return page()


def _report(exc: BaseException) -> None:
    # handled here, so Flask sends no got_request_exception: report it ourselves
    sentry_sdk.capture_exception(exc)
    # the message may quote user input: log the type and where, never the text
    where = "".join(traceback.format_tb(exc.__traceback__))
    log.error("unhandled error %s\n%s", type(exc).__name__, where)


@event.listens_for(Session, "after_flush")
def _flushed(sess: Session, flush_context: Any) -> None:
    sess.info[_WROTE] = True


@event.listens_for(Session, "do_orm_execute")
def _executed(state: ORMExecuteState) -> None:
    if not state.is_select:
        state.session.info[_WROTE] = True


@event.listens_for(Session, "after_transaction_end")
def _ended(sess: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        sess.info.pop(_WROTE, None)


def wrote(sess: Session | None = None) -> bool:
    """Whether the session's transaction has written through the ORM or a
    statement, or holds writes to make. A SELECT of a function that writes
    (the audit log's append) is not seen: use it for what may ride along
    with a commit, never to decide whether to commit."""
    sess = sess or db.session()
    return bool(sess.info.get(_WROTE) or sess.new or sess.dirty or sess.deleted)


def note_write(sess: Session | None = None) -> None:
    """Count the transaction as written for a write the hooks cannot see: a
    SELECT whose data-modifying CTE inserts (the client file's logged read)."""
    (sess or db.session()).info[_WROTE] = True


def finish(response: Any) -> Any:
    """after_request: commit a successful, unrefused request; leave any other
    to the teardown's close, which rolls back."""
    failed = response.status_code >= 400 and not g.get(_KEPT)
    if failed or is_refused():
        # the teardown's close rolls back, and leaves what was read readable
        return response
    try:
        db.session.commit()
    except Exception as exc:  # noqa: BLE001 - answered below: never the success made before
        rollback()
        # what the view flashed for the next page told of a success that was not kept
        session.pop("_flashes", None)
        if isinstance(exc, IntegrityError):
            # another request took the same key at the same moment
            log.warning("commit refused: %s", type(exc.orig).__name__)
            return _as_response(render_error(409))
        _report(exc)
        if isinstance(exc, OperationalError | InterfaceError):
            as_visitor()
        return _as_response(render_error(500))
    return response


def _as_response(rv: Any) -> Any:
    return current_app.make_response(rv)


def init_app(app: Flask) -> None:
    """Register the request's end and its error answers on the app. Call it
    last: the commit then runs before the other after_request hooks, which
    see (and dress) an error page that replaced a failed commit."""

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        rollback()
        mark_refused()
        each = exc.by_field()
        listed = [(e.field, error_message(e)) for e in each] if len(each) > 1 else []
        return render_error(exc.status, error_message(exc), exc.field, listed)

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return render_error(400, _("This form has expired. Reload the page and try again."))

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        code = exc.code or 500
        if code in (301, 302, 303, 307, 308):
            return exc
        if code == 404 and not wants_json():
            from saas.tenancy import frame_for_not_found  # the tenancy imports the lifecycle's users

            frame_for_not_found()
        return render_error(code)

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> Any:
        _report(exc)
        rollback()
        if isinstance(exc, OperationalError | InterfaceError):
            # the database went away: what this request loaded is expired and
            # cannot be read again, so the page is made as for a visitor
            as_visitor()
        return render_error(500)

    app.after_request(finish)

    @app.teardown_request
    def _teardown(exc: BaseException | None) -> None:
        # the response is made: nothing here may replace it (gunicorn would send a bare 500)
        try:
            if exc is None:
                jobs.relay_after_commit(db.session())
                if app.config.get("WEB_SWEEP_WATCH"):
                    watch_from_web(jobs.redis_connection(app.config["REDIS_URL"]))
        except Exception as error:  # noqa: BLE001
            log.warning("after-request work failed: %s", type(error).__name__)
        finally:
            release_session()
