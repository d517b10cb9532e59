"""Spreadsheet imports: a preview naming every bad row, then all rows or none.
CSV in UTF-8, GBK or UTF-16, XLSX; the wrong columns; exports of the same."""

from __future__ import annotations

import io
from datetime import date

import pytest
from sqlalchemy import func, select

from saas import db
from saas.models import Invitation, Role, User
from tenants.catalogue.models import ItemTerms, ServiceCategory, ServiceItem
from tenants.spreadsheets import defuse, read_table
from tenants.staffing.errors import Invalid
from tenants.staffing.imports import CERTIFICATE_COLUMNS, STAFF_COLUMNS
from tenants.staffing.models import Certificate, ImportBatch, StaffFile
from tests.factories import login
from tests.staffing import workforce_helpers as wf


def upload(client, agency, path: str, data: bytes, filename: str = "people.csv"):
    return client.post(
        f"/a/{agency.slug}/{path}",
        data={"file": (io.BytesIO(data), filename)},
        content_type="multipart/form-data",
    )


def count(agency, model) -> int:
    with db.tenant_scope(agency.id):
        return db.session.scalar(select(func.count()).select_from(model)) or 0


STAFF_CSV = (
    "email,name,staff_role,staff_number,employment_start,contracted_hours,home_area,skills,languages\n"
    'ann@example.net,Ann Able,carer,S-1,2026-01-05,37.5,North,"cooking, dementia care",English\n'
    "ben@example.net,Ben Best,Social worker,S-2,2026/2/1,20,South,,\n"
    "cat@example.net,Cat Cole,coordinator,S-3,2026-03-01,,,,\n"
)


def test_staff_import_with_one_bad_row_saves_nothing_and_names_the_row(client, agency, admin):
    bad = STAFF_CSV.replace("2026-03-01", "01/03/2026").replace(",20,", ",-20,")
    response = upload(client, agency, "staff/import", bad.encode())
    assert response.status_code == 302
    preview = client.get(response.location)
    assert preview.status_code == 200
    assert "2 of 3 rows have problems" in preview.text
    assert "Row 3: contracted_hours: Enter a number from 0 to 168." in preview.text
    assert "Row 4: employment_start: Enter a date as YYYY-MM-DD." in preview.text
    assert "Save all" not in preview.text
    saved = client.post(f"{response.location}/save")
    assert saved.status_code == 422 and "Nothing was saved" in saved.text
    assert count(agency, StaffFile) == 0 and count(agency, Invitation) == 0
    assert db.session.scalar(select(User.id).where(User.email == "ann@example.net")) is None


def test_staff_import_saves_every_row(client, factory, agency, admin):
    existing, _ = factory.member(agency, Role.CARER, name="Cat Cole", email="cat@example.net")
    response = upload(client, agency, "staff/import", STAFF_CSV.encode("utf-8-sig"))
    preview = client.get(response.location)
    assert "All 3 rows are ready to save" in preview.text
    assert preview.text.count("New to the agency: will be invited by email.") == 2
    saved = client.post(f"{response.location}/save")
    assert saved.status_code == 302
    with db.tenant_scope(agency.id):
        files = {s.staff_number: s for s in db.session.scalars(select(StaffFile))}
        invited = set(db.session.scalars(select(Invitation.email)))
        batch = db.session.scalar(select(ImportBatch))
    assert set(files) == {"S-1", "S-2", "S-3"}
    assert files["S-1"].skills == ["cooking", "dementia care"] and files["S-1"].home_area == "North"
    assert files["S-2"].staff_role == "social_worker" and files["S-2"].employment_start == date(2026, 2, 1)
    assert invited == {"ann@example.net", "ben@example.net"}, "existing members are not invited again"
    assert batch.status == "saved" and batch.rows == [] and batch.row_count == 3
    # saving twice does nothing more
    assert client.post(f"{response.location}/save").status_code == 422
    assert count(agency, StaffFile) == 3
    assert existing.email == "cat@example.net"


def test_gbk_file_with_chinese_headers(client, agency, admin):
    text = (
        "邮箱,姓名,岗位,工号,入职日期,居住区域,技能\n"
        "li.na@example.net,李娜,护理员,K-01,2026年3月1日,朝阳区,助浴、陪护\n"
        "wang@example.net,王芳,社工,K-02,2026-03-02,海淀区,\n"
    )
    response = upload(client, agency, "staff/import", text.encode("gbk"))
    assert response.status_code == 302
    preview = client.get(response.location)
    assert "李娜" in preview.text and "All 2 rows are ready to save" in preview.text
    assert client.post(f"{response.location}/save").status_code == 302
    with db.tenant_scope(agency.id):
        staff = db.session.scalar(select(StaffFile).where(StaffFile.staff_number == "K-01"))
    assert (
        staff.skills == ["助浴", "陪护"]
        and staff.home_area == "朝阳区"
        and staff.employment_start == date(2026, 3, 1)
    )
    assert db.session.scalar(select(User.name).where(User.email == "li.na@example.net")) == "李娜"


def test_wrong_columns_encoding_and_empty_files(client, agency, admin):
    cases = [
        (b"mail,full name\nx@example.net,X\n", "Columns missing: email, staff_role, employment_start"),
        (b"email,staff_role,employment_start,shoe size\n", "Columns not recognised: shoe size"),
        (b"email,staff_role,employment_start,email\n", "Columns named twice: email"),
        (b"email,staff_role,employment_start\n", "header row but no data rows"),
        (b"", "The file is empty"),
        (b"\x00\x01\x02binary", "This file cannot be read"),
        (b"\x81\x30\xff\xff,\xfe\n", "not UTF-8 or GBK"),
    ]
    for data, message in cases:
        response = upload(client, agency, "staff/import", data)
        assert response.status_code == 422, message
        assert message in response.text, message
    many = b"email,staff_role,employment_start\n" + b"x@example.net,carer,2026-01-01\n" * 1001
    too_many = upload(client, agency, "staff/import", many)
    assert too_many.status_code == 422 and "more than 1000 rows; split it" in too_many.text
    not_xlsx = upload(client, agency, "staff/import", b"hello", "people.xlsx")
    assert not_xlsx.status_code == 422 and "cannot be read" in not_xlsx.text
    assert count(agency, ImportBatch) == 0


def test_read_table_formats():
    columns = STAFF_COLUMNS
    utf16 = "email\tstaff_role\temployment_start\nx@example.net\tcarer\t2026-01-01\n".encode("utf-16")
    assert read_table(utf16, "x.txt", columns).rows[0]["staff_role"] == "carer"
    semicolons = b"email;staff_role;employment_start\r\nx@example.net;carer;2026-01-01\r\n\r\n;;\r\n"
    table = read_table(semicolons, "x.csv", columns)
    assert len(table.rows) == 1 and table.numbers == [2]
    with pytest.raises(Invalid) as too_many:
        read_table(b"email,staff_role,employment_start\n" + b"a,b,c\n" * 5001, "x.csv", columns)
    assert too_many.value.problems[0].code == "too_many_rows"


def test_xlsx_import(client, app, agency, admin):
    from openpyxl import Workbook

    type_id = wf.cert_type(app, agency, "First aid")
    assert type_id
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(
        ["category", "name", "price", "unit", "duration_minutes", "checklist", "required_certificate_type"]
    )
    sheet.append(["Daily living", "Housekeeping", 24.5, "per hour", 60, "Rooms cleaned\nFloor dry", ""])
    sheet.append(["Health", "First aid check", 10, "按次", 30, "", "first AID"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    response = upload(client, agency, "catalogue/import", buffer.getvalue(), "catalogue.xlsx")
    assert response.status_code == 302, response.text[:3000]
    preview = client.get(response.location)
    assert "All 2 rows are ready to save" in preview.text
    assert "New category Daily living will be created." in preview.text
    assert client.post(f"{response.location}/save").status_code == 302
    with db.tenant_scope(agency.id):
        rows = db.session.execute(
            select(ServiceItem.name, ItemTerms).join(ItemTerms, ItemTerms.item_id == ServiceItem.id)
        ).all()
        assert set(db.session.scalars(select(ServiceCategory.name))) == {"Daily living", "Health"}
    terms = {name: t for name, t in rows}
    assert terms["Housekeeping"].unit == "per_hour" and terms["Housekeeping"].checklist == [
        "Rooms cleaned",
        "Floor dry",
    ]
    assert (
        terms["First aid check"].unit == "per_visit"
        and terms["First aid check"].required_certificate_type_id == type_id
    )


def test_catalogue_import_problems(client, app, agency, admin):
    wf.item(app, agency, wf.category(app, agency, "Health"), "Health talk")
    text = (
        "category,name,price,unit,duration_minutes,required_certificate_type\n"
        "Health,Health talk,0,per visit,60,\n"
        "Health,Massage,-5,per visit,60,\n"
        "Health,Yoga,5,per week,60,\n"
        "Health,Tai chi,5,per visit,0,\n"
        "Health,Walks,5,per visit,60,Lifeguard\n"
        "Health,Walks,5,per visit,60,\n"
    )
    response = upload(client, agency, "catalogue/import", text.encode())
    preview = client.get(response.location).text
    assert "Row 2: name: There is already an item called Health talk." in preview
    assert "Row 3: price: The price cannot be negative." in preview
    assert "Row 4: unit: Choose one of:" in preview
    assert "Row 5: duration_minutes: Enter a duration from 1 to 1440 minutes." in preview
    assert "Row 6: required_certificate_type: The agency has no certificate type called Lifeguard." in preview
    assert "Row 7: name: Walks appears twice in this file." in preview
    assert client.post(f"{response.location}/save").status_code == 422
    assert count(agency, ServiceItem) == 1


def test_certificate_import(client, app, factory, agency, admin):
    type_id = wf.cert_type(app, agency, "First aid")
    ann, _m, ann_id = wf.staff(factory, agency, name="Ann", staff_number="S-1")
    wf.certificate(app, agency, ann_id, type_id, number="FA-OLD")
    text = (
        "email,staff_number,certificate_type,number,issuer,issued_on,expires_on\n"
        f"{ann.email},,First aid,FA-1,Red Cross,2025-01-01,2028-01-01\n"
        ",S-1,first aid,FA-2,,2025-01-01,\n"
        "nobody@example.net,,First aid,FA-3,,2025-01-01,\n"
        f"{ann.email},,Lifeguard,FA-4,,2025-01-01,\n"
        f"{ann.email},,First aid,FA-5,,2025-01-01,2024-01-01\n"
        f"{ann.email},,First aid,FA-OLD,,2025-01-01,\n"
        f"{ann.email},,First aid,FA-1,,2025-01-01,\n"
    )
    response = upload(client, agency, "certificates/import", text.encode())
    preview = client.get(response.location).text
    assert "Row 4: email: No staff file matches nobody@example.net." in preview
    assert "Row 5: certificate_type: The agency has no certificate type called Lifeguard." in preview
    assert "Row 6: expires_on: The expiry date cannot be before the issue date." in preview
    assert "Row 7: number: Another certificate of this type already has the number FA-OLD." in preview
    assert "Row 8: number: FA-1 appears twice in this file." in preview
    assert client.post(f"{response.location}/save").status_code == 422
    assert count(agency, Certificate) == 1

    good = "\n".join(text.splitlines()[:3]) + "\n"
    response = upload(client, agency, "certificates/import", good.encode())
    assert "All 2 rows are ready to save" in client.get(response.location).text
    assert client.post(f"{response.location}/save").status_code == 302
    with db.tenant_scope(agency.id):
        numbers = set(db.session.scalars(select(Certificate.number)))
    assert numbers == {"FA-OLD", "FA-1", "FA-2"}


def test_discard(client, agency, admin):
    response = upload(client, agency, "staff/import", STAFF_CSV.encode())
    assert client.post(f"{response.location}/discard").status_code == 302
    with db.tenant_scope(agency.id):
        batch = db.session.scalar(select(ImportBatch))
    assert batch.status == "discarded" and batch.rows == []
    assert "discarded" in client.get(response.location).text
    assert client.post(f"{response.location}/save").status_code == 422
    assert count(agency, StaffFile) == 0


def test_exports_round_trip_and_defuse_formulas(client, app, factory, agency, admin):
    type_id = wf.cert_type(app, agency, "First aid")
    _u, _m, staff_id = wf.staff(
        factory, agency, name='=HYPERLINK("http://evil")', staff_number="S-1", home_area="-North"
    )
    wf.certificate(app, agency, staff_id, type_id, number="FA-1", expires=date(2030, 1, 1))
    staff_csv = client.get(f"/a/{agency.slug}/staff/export.csv")
    assert staff_csv.status_code == 200 and staff_csv.headers["Content-Disposition"].startswith("attachment")
    text = staff_csv.data.decode("utf-8-sig")
    assert text.splitlines()[0] == ",".join(c.key for c in STAFF_COLUMNS)
    assert "'=HYPERLINK" in text and ",'-North," in text
    certs_csv = client.get(f"/a/{agency.slug}/certificates/export.csv").data
    assert certs_csv.decode("utf-8-sig").splitlines()[0] == ",".join(c.key for c in CERTIFICATE_COLUMNS)
    # the export imports back: here every certificate already exists
    response = upload(client, agency, "certificates/import", certs_csv)
    assert "already has the number FA-1" in client.get(response.location).text
    wf.item(app, agency, wf.category(app, agency), "Meals")
    catalogue_csv = client.get(f"/a/{agency.slug}/catalogue/export.csv").data.decode("utf-8-sig")
    assert "Meals" in catalogue_csv and "Arrive on time\nLeave the place tidy" in catalogue_csv
    assert defuse(-5) == "-5" and defuse("@SUM(A1)") == "'@SUM(A1)" and defuse("plain") == "plain"


def test_templates_and_roles(app, factory, agency):
    coordinator, _ = factory.member(agency, Role.COORDINATOR)
    coord = app.test_client()
    login(coord, coordinator)
    assert coord.get(f"/a/{agency.slug}/staff/import").status_code == 403
    assert coord.get(f"/a/{agency.slug}/staff/export.csv").status_code == 200
    assert coord.get(f"/a/{agency.slug}/catalogue/export.csv").status_code == 200
    admin, _ = factory.member(agency, Role.ADMIN)
    client = app.test_client()
    login(client, admin)
    template = client.get(f"/a/{agency.slug}/staff/import/template.csv").data.decode("utf-8-sig")
    assert template.strip() == ",".join(c.key for c in STAFF_COLUMNS)
    assert client.get(f"/a/{agency.slug}/catalogue/import/template.csv").status_code == 200
    assert client.get(f"/a/{agency.slug}/certificates/import/template.csv").status_code == 200
