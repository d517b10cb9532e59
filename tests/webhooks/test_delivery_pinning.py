"""Where a delivery goes: the host is resolved once at delivery, refused if
any of its addresses is private, loopback, link-local, multicast or
reserved (unless the operators allow private addresses), and the POST
connects to that vetted address, whatever a second DNS answer says, with
the URL's host in its Host header and, over TLS, as SNI; redirects are not
followed.

Names are resolved by `services.resolve`, replaced here by a table (no DNS
server can be reached from the tests); the receivers are real HTTP(S)
servers on loopback addresses."""

from __future__ import annotations

import datetime as dt
import ssl
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from sqlalchemy import select

from saas import db
from saas.platform_settings import update_platform_setting
from tenants.webhooks import services
from tenants.webhooks.models import WebhookAttempt
from tests.factories import run_jobs


class Receiver:
    """An HTTP(S) server on `host` in a thread: keeps each request's headers
    (and the TLS server name asked for), answers `status` with `headers`."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, status: int = 204, headers=None, tls=None):
        received = self.received = []
        names = self.server_names = []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                self.rfile.read(int(self.headers["Content-Length"]))
                received.append(dict(self.headers))
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = HTTPServer((host, port), Handler)
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*tls)
            context.sni_callback = lambda _sock, name, _ctx: names.append(name)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receivers():
    started: list[Receiver] = []

    def start(*args, **kwargs) -> Receiver:
        started.append(Receiver(*args, **kwargs))
        return started[-1]

    yield start
    for r in started:
        r.stop()


class Names:
    """`services.resolve` answering from a table: each name's successive
    answers (the last one repeated), counting the questions."""

    def __init__(self, monkeypatch) -> None:
        self.answers: dict[str, list[list[str]]] = {}
        self.asked: list[str] = []
        real = services.resolve

        def resolve(host: str, port: int) -> list[str]:
            if host not in self.answers:
                return real(host, port)  # an address literal
            self.asked.append(host)
            queue = self.answers[host]
            return queue.pop(0) if len(queue) > 1 else queue[0]

        monkeypatch.setattr(services, "resolve", resolve)


@pytest.fixture
def names(monkeypatch) -> Names:
    return Names(monkeypatch)


def _allow_private(allowed: bool) -> None:
    update_platform_setting("webhook_private_addresses", 1 if allowed else 0, by=None)
    db.session.commit()


def _endpoint(agency, url: str) -> None:
    """An endpoint for `plan.approved` saved while private addresses are allowed."""
    _allow_private(True)
    with db.tenant_scope(agency.id):
        services.create_endpoint(url, ["plan.approved"], "Test", by=None)
        db.session.commit()


def _deliver_one(agency) -> WebhookAttempt:
    with db.tenant_scope(agency.id):
        services.forget_endpoints()
        assert services.emit(agency.id, "plan.approved", "plan-1", {"version": 1}) == 1
        db.session.commit()
    run_jobs("webhooks.deliver")
    with db.tenant_scope(agency.id):
        return db.session.scalars(select(WebhookAttempt).order_by(WebhookAttempt.at.desc())).first()


def test_a_name_resolving_to_loopback_is_refused_unless_allowed(factory, dbconn, receivers, names):
    receiver = receivers()
    names.answers["hooks.test"] = [["127.0.0.1"]]
    names.answers["mixed.test"] = [["93.184.215.14", "127.0.0.1"]]
    agency = factory.agency()
    _allow_private(False)
    for host in ("hooks.test", "mixed.test", "localhost"):
        with db.tenant_scope(agency.id), pytest.raises(services.WebhookError) as refused:
            services.check_url(f"http://{host}:{receiver.port}/hook")
        assert (refused.value.code, refused.value.field) == ("url_private", "url")
    # saved while allowed, then the operators forbid private addresses: the delivery is refused
    _endpoint(agency, f"http://hooks.test:{receiver.port}/hook")
    _allow_private(False)
    attempt = _deliver_one(agency)
    assert (attempt.error, attempt.status_code) == ("url_private", None)
    assert receiver.received == []
    # allowed: delivered to the vetted address, the Host header naming the URL's host
    _allow_private(True)
    names.asked.clear()
    attempt = _deliver_one(agency)
    assert (attempt.error, attempt.status_code) == ("", 204)
    assert [h["Host"] for h in receiver.received] == [f"hooks.test:{receiver.port}"]
    assert names.asked == ["hooks.test"]  # resolved once at delivery
    # one forbidden address among several is enough to refuse
    _endpoint(agency, f"http://mixed.test:{receiver.port}/hook")
    _allow_private(False)
    with db.tenant_scope(agency.id):
        services.forget_endpoints()
        assert services.emit(agency.id, "plan.approved", "plan-2", {}) == 2
        db.session.commit()
    run_jobs("webhooks.deliver")
    with db.tenant_scope(agency.id):
        errors = sorted(db.session.scalars(select(WebhookAttempt.error).order_by(WebhookAttempt.at)).all())
    assert errors.count("url_private") == 3 and len(receiver.received) == 1


def test_the_connection_goes_to_the_first_vetted_address(factory, dbconn, receivers, names):
    """The first answer is vetted and used; the second (a rebinding) would
    point elsewhere: nothing reaches it."""
    vetted = receivers("127.0.0.1")
    elsewhere = receivers("127.0.0.2", vetted.port)
    agency = factory.agency()
    names.answers["rebind.test"] = [["127.0.0.1"]]
    _endpoint(agency, f"http://rebind.test:{vetted.port}/hook")
    names.answers["rebind.test"] = [["127.0.0.1"], ["127.0.0.2"]]
    names.asked.clear()
    attempt = _deliver_one(agency)
    assert (attempt.error, attempt.status_code) == ("", 204)
    assert [h["Host"] for h in vetted.received] == [f"rebind.test:{vetted.port}"]
    assert elsewhere.received == []
    assert names.asked == ["rebind.test"]  # the library never asked again
    # the next delivery is vetted afresh: now the second address
    attempt = _deliver_one(agency)
    assert attempt.status_code == 204 and len(elsewhere.received) == 1 and len(vetted.received) == 1


def test_redirects_are_not_followed(factory, dbconn, receivers, names):
    target = receivers()
    redirecting = receivers(status=307, headers={"Location": f"http://127.0.0.1:{target.port}/other"})
    names.answers["redirect.test"] = [["127.0.0.1"]]
    agency = factory.agency()
    _endpoint(agency, f"http://redirect.test:{redirecting.port}/hook")
    attempt = _deliver_one(agency)
    assert (attempt.error, attempt.status_code) == ("status", 307)
    assert len(redirecting.received) == 1 and target.received == []


def _certificates(tmp_path, host: str) -> tuple[str, tuple[str, str]]:
    """A throwaway certificate authority and a certificate for `host` signed
    by it: (the authority's file, (certificate file, key file))."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return str(ca_file), (str(cert_file), str(key_file))


def test_https_sends_the_host_as_sni_and_checks_its_certificate(
    factory, dbconn, receivers, names, tmp_path, monkeypatch
):
    ca_file, chain = _certificates(tmp_path, "secure.test")
    receiver = receivers(tls=chain)
    monkeypatch.setattr(services, "CA_BUNDLE", ca_file)
    names.answers["secure.test"] = [["127.0.0.1"]]
    names.answers["other.test"] = [["127.0.0.1"]]
    agency = factory.agency()
    _endpoint(agency, f"https://secure.test:{receiver.port}/hook")
    attempt = _deliver_one(agency)
    assert (attempt.error, attempt.status_code) == ("", 204)
    assert receiver.server_names == ["secure.test"]
    assert [h["Host"] for h in receiver.received] == [f"secure.test:{receiver.port}"]
    # a name the certificate does not hold, though it resolves to the same address: refused
    _endpoint(agency, f"https://other.test:{receiver.port}/hook")
    with db.tenant_scope(agency.id):
        from tenants.webhooks.models import WebhookEndpoint

        first = db.session.scalars(
            select(WebhookEndpoint).where(WebhookEndpoint.url.like("https://secure%"))
        ).one()
        first.active = False
        db.session.commit()
    attempt = _deliver_one(agency)
    assert (attempt.error, attempt.status_code) == ("connection", None)
    assert len(receiver.received) == 1
