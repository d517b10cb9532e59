"""A person at a browser, without the browser: `requests` with cookies kept,
forms read from the rendered page and submitted with what the page holds
(hidden fields, the CSRF token, selected options, ticked boxes) plus what the
person types. Nothing is made up that the page did not offer."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import requests

from saas.auth.totp import for_secret


@dataclass
class Field:
    name: str
    kind: str  # input type, "select" or "textarea"
    value: str = ""
    checked: bool = False
    options: list[tuple[str, str, bool]] = field(default_factory=list)  # value, label, selected


@dataclass
class Form:
    action: str
    method: str
    fields: list[Field] = field(default_factory=list)

    def names(self) -> set[str]:
        return {f.name for f in self.fields}

    def options(self, name: str) -> list[tuple[str, str]]:
        return [(v, label) for f in self.fields if f.name == name for v, label, _s in f.options]

    def payload(self, typed: dict[str, Any], button: tuple[str, str] | None = None) -> list[tuple[str, str]]:
        """What a browser sends: each field's current value unless the person
        changed it. For a checkbox, True ticks it and False clears it; a list
        ticks the boxes with those values."""
        unknown = set(typed) - self.names()
        assert not unknown, (
            f"the form at {self.action} has no field {sorted(unknown)}: {sorted(self.names())}"
        )
        out: list[tuple[str, str]] = []
        for f in self.fields:
            if f.kind in {"submit", "button", "image", "reset", "file"}:
                continue
            given = typed.get(f.name, _UNSET)
            if f.kind in {"checkbox", "radio"}:
                value = f.value or "on"
                if given is _UNSET:
                    on = f.checked
                elif isinstance(given, bool):
                    on = given
                elif isinstance(given, (list, tuple, set)):
                    on = value in {str(v) for v in given}
                else:
                    on = value == str(given)
                if on:
                    out.append((f.name, value))
                continue
            if f.kind == "select":
                if given is _UNSET:
                    chosen = [v for v, _label, s in f.options if s] or [v for v, _l, _s in f.options[:1]]
                    out += [(f.name, v) for v in chosen]
                else:
                    values = [v for v, _l, _s in f.options]
                    labels = {label: v for v, label, _s in f.options}
                    value = labels.get(str(given), str(given))
                    assert value in values, f"{f.name}: {given!r} is not offered ({f.options})"
                    out.append((f.name, value))
                continue
            out.append((f.name, f.value if given is _UNSET else str(given)))
        if button:
            out.append(button)
        return out


_UNSET = object()


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._form: Form | None = None
        self._select: Field | None = None
        self._option: list[Any] | None = None
        self._textarea: Field | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self._form = Form(action=a.get("action", ""), method=a.get("method", "get").lower())
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            self._form.fields.append(Field(a["name"], kind, a.get("value", ""), "checked" in a))
        elif tag == "select" and a.get("name"):
            self._select = Field(a["name"], "select")
            self._form.fields.append(self._select)
        elif tag == "option" and self._select is not None:
            self._option = [a.get("value"), "", "selected" in a]
        elif tag == "textarea" and a.get("name"):
            self._textarea = Field(a["name"], "textarea")
            self._form.fields.append(self._textarea)

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option[1] += data
        elif self._textarea is not None:
            self._textarea.value += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._close_option()
            self._select = None
        elif tag == "option":
            self._close_option()
        elif tag == "textarea":
            if self._textarea is not None:
                # a browser drops the one newline right after <textarea>
                value = self._textarea.value
                self._textarea.value = value[2:] if value.startswith("\r\n") else value.removeprefix("\n")
            self._textarea = None

    def _close_option(self) -> None:
        if self._option is not None and self._select is not None:
            value, label, selected = self._option
            label = " ".join(label.split())
            self._select.options.append((label if value is None else value, label, selected))
        self._option = None


def forms_of(html: str) -> list[Form]:
    parser = _FormParser()
    parser.feed(html)
    return parser.forms


class Person:
    """One person's browser: a cookie jar and the page they are looking at."""

    def __init__(self, base_url: str, who: str = "") -> None:
        self.base = base_url
        self.who = who
        self.http = requests.Session()
        self.page: requests.Response | None = None
        self.totp_secret: str | None = None

    def url(self, path: str) -> str:
        return urljoin(self.base + "/", path.lstrip("/")) if not path.startswith("http") else path

    def get(self, path: str, expect: int | None = 200) -> requests.Response:
        response = self.http.get(self.url(path), timeout=30)
        if expect is not None:
            assert response.status_code == expect, (
                self.who,
                path,
                response.status_code,
                response.text[:2000],
            )
        self.page = response
        return response

    def form(self, action: str | None = None, has: str | None = None) -> Form:
        """A form on the current page: the one whose action ends with `action`
        (or, with `has`, the one with that field)."""
        assert self.page is not None
        page_url = self.page.url

        def target(f: Form) -> str:
            return urljoin(page_url, f.action).split("?")[0]

        found = [
            f
            for f in forms_of(self.page.text)
            if (action is None or target(f).endswith(action)) and (has is None or has in f.names())
        ]
        assert found, f"no form {action or ''} {has or ''} on {self.page.url}: " + str(
            [(f.action, sorted(f.names())) for f in forms_of(self.page.text)]
        )
        return found[0]

    def submit(
        self,
        action: str | None = None,
        data: dict[str, Any] | None = None,
        *,
        has: str | None = None,
        button: tuple[str, str] | None = None,
        expect: int | None = 200,
    ) -> requests.Response:
        """Fill a form of the current page and send it; redirects followed as a browser does."""
        assert self.page is not None
        form = self.form(action, has)
        target = urljoin(self.page.url, form.action) if form.action else self.page.url
        payload = form.payload(data or {}, button)
        if form.method == "post":
            response = self.http.post(target, data=payload, timeout=30)
        else:
            response = self.http.get(target, params=payload, timeout=30)
        if expect is not None:
            assert response.status_code == expect, (
                self.who,
                target,
                response.status_code,
                _main_text(response.text)[:3000],
            )
        self.page = response
        return response

    def post_button(self, action: str, expect: int | None = 200) -> requests.Response:
        """Press a one-button form (Approve, Make active, Check in...)."""
        return self.submit(action, expect=expect)

    def sign_in(self, email: str, password: str, totp_secret: str | None = None) -> requests.Response:
        self.get("/login")
        done = self.submit("/login", {"email": email, "password": password})
        if "/login/two-factor" in done.url:
            assert totp_secret, f"{email} is asked for a second factor"
            done = self.submit("/login/two-factor", {"code": totp_code(totp_secret, email)})
        assert "/login" not in done.url, (email, _main_text(done.text)[:1500])
        if done.url.endswith("/account/two-factor"):
            done = self.enrol_two_factor()
        return done

    def enrol_two_factor(self) -> requests.Response:
        """Turn on two-factor sign-in from the set-up page, as with an
        authenticator app: read the secret shown, type the current code."""
        assert self.page is not None and self.page.url.endswith("/account/two-factor"), self.page
        found = re.search(r'data-testid="totp-secret"[^>]*>\s*([A-Z2-7]+)\s*<', self.page.text)
        assert found, self.text()[:1500]
        self.totp_secret = found.group(1)
        done = self.submit(None, {"code": totp_code(self.totp_secret, self.who)}, has="code")
        assert "Two-factor sign-in is on." in self.flashes(), self.text()[:1500]
        return done

    def flashes(self) -> list[str]:
        assert self.page is not None
        return [
            " ".join(unescape(re.sub(r"<[^>]+>", " ", m)).split())
            for m in re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', self.page.text, re.S)
        ]

    def text(self) -> str:
        assert self.page is not None
        return _main_text(self.page.text)


_used_codes: dict[str, str] = {}


def totp_code(secret: str, account: str) -> str:
    """The current code; an account accepts each code once, so wait for the
    next one when this account's code was just used (at most one 30-second step)."""
    import time

    code = for_secret(secret).now()
    while _used_codes.get(account) == code:
        time.sleep(1)
        code = for_secret(secret).now()
    _used_codes[account] = code
    return code


def _main_text(html: str) -> str:
    body = re.sub(r"(?s)<(script|style|head)[^>]*>.*?</\1>", " ", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", body)).split())


def by_testid(html: str, name: str) -> str:
    """The text of the element with data-testid=name."""
    found = re.search(rf'data-testid="{name}"[^>]*>(.*?)</', html, re.S)
    assert found, f"no {name} on the page"
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split())
