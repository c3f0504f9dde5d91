"""Build the demo corpus's binary documents (.docx, .pptx, .pdf) from fixed content.

Run from anywhere with the project's virtual environment:

    .venv/bin/python api/demo/build_binaries.py

Requires python-docx, python-pptx and reportlab. The output is reproducible: document
properties carry a fixed date, every zip entry gets a fixed timestamp, and PDFs are written
in reportlab's invariant mode (no creation date, fixed document id). Running the script twice
gives byte-identical files.
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

from docx import Document
from docx.shared import Pt
from pptx import Presentation
from pptx.util import Inches, Pt as PptPt
from reportlab.lib.pagesizes import LETTER
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.lib import colors

CORPUS = Path(__file__).resolve().parent / "corpus"
FIXED_DATE = dt.datetime(2026, 3, 1, 9, 0, 0)
AUTHOR = "Northwind Robotics"
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


# --------------------------------------------------------------------------- helpers


def _normalize_zip(path: Path) -> None:
    """Rewrite an Office file (a zip) with fixed entry timestamps and attributes."""
    with zipfile.ZipFile(path) as src:
        entries = [(info.filename, src.read(info.filename)) for info in src.infolist()]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 0
            dst.writestr(info, data)
    path.write_bytes(buffer.getvalue())


def _set_core(props: Any, title: str, subject: str = "") -> None:
    props.author = AUTHOR
    props.last_modified_by = AUTHOR
    props.title = title
    props.subject = subject
    props.created = FIXED_DATE
    props.modified = FIXED_DATE
    props.last_printed = FIXED_DATE
    props.revision = 1


def _docx_table(doc: Any, header: list[str], rows: list[list[str]]) -> None:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, header):
        cell.text = text
        for run in cell.paragraphs[0].runs:
            run.bold = True
    for row in rows:
        cells = table.add_row().cells
        for cell, text in zip(cells, row):
            cell.text = text
    doc.add_paragraph()


def _save_docx(doc: Any, rel: str, title: str) -> Path:
    _set_core(doc.core_properties, title)
    path = CORPUS / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    doc.save(path)
    _normalize_zip(path)
    return path


def _new_docx() -> Any:
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)
    return doc


# --------------------------------------------------------------------------- docx


def performance_review_cycle() -> Path:
    doc = _new_docx()
    doc.add_heading("Performance Review Cycle 2026", level=0)
    doc.add_paragraph(
        "Owner: People team · Version 1.0 · Published 2026-02-16 · Applies to all regular "
        "employees in the United States and the Netherlands"
    )
    doc.add_heading("Why we review performance", level=1)
    doc.add_paragraph(
        "Reviews at Northwind have two goals: give every employee clear, written feedback at "
        "least twice a year, and make pay and promotion decisions fair and consistent across "
        "teams. Reviews are written in Lattice."
    )
    doc.add_heading("2026 calendar", level=1)
    doc.add_paragraph(
        "Mid-year check-ins are held from June 1 to June 19, 2026. A mid-year check-in is a "
        "conversation between you and your manager about progress on your goals; it has no "
        "rating and does not affect pay."
    )
    _docx_table(
        doc,
        ["Step", "Dates", "Who"],
        [
            ["Goal setting for 2026", "January 12 – February 6", "Employee and manager"],
            ["Mid-year check-ins", "June 1 – June 19", "Employee and manager"],
            ["Self-review", "November 2 – November 13", "Employee"],
            ["Peer feedback (2 to 4 peers)", "November 2 – November 20", "Peers chosen with manager"],
            ["Manager review and proposed rating", "November 16 – December 4", "Manager"],
            ["Calibration meetings", "December 7 – December 11", "Directors and People partners"],
            ["Review conversations", "January 5 – January 16, 2027", "Employee and manager"],
            ["Merit increases and promotions effective", "April 1, 2027", "Payroll"],
        ],
    )
    doc.add_paragraph(
        "The annual review runs from November 2 to December 11, 2026, and review "
        "conversations take place in the first two weeks of January 2027."
    )
    doc.add_heading("Ratings", level=1)
    doc.add_paragraph(
        "Annual reviews use a five-point scale. There is no forced distribution, but "
        "calibration checks that ratings mean the same thing in every department."
    )
    for text in [
        "5 — Exceptional: consistently beyond the role's expectations; a model for others.",
        "4 — Exceeds expectations: regularly goes beyond the role in results or scope.",
        "3 — Meets expectations: strong, reliable performance; most employees are here.",
        "2 — Partially meets expectations: some goals missed; a development plan is agreed.",
        "1 — Does not meet expectations: performance must improve; a formal plan may follow.",
    ]:
        doc.add_paragraph(text, style="List Bullet")
    doc.add_heading("Promotions", level=1)
    doc.add_paragraph(
        "Managers nominate employees for promotion during the manager review step. A "
        "promotion case is one page: the scope the person already works at, three examples, "
        "and peer feedback. Promotions are decided in calibration and take effect on April 1."
    )
    doc.add_heading("New joiners and leave", level=1)
    doc.add_paragraph(
        "Employees who join after September 30, 2026 skip the annual rating and have a "
        "90-day check-in instead. Time on parental or medical leave never lowers a rating; "
        "ratings reflect the time worked."
    )
    doc.add_heading("Questions", level=1)
    doc.add_paragraph("Ask your People partner or write to people@northwind.example.")
    return _save_docx(doc, "hr/performance-review-cycle-2026.docx", "Performance Review Cycle 2026")


def workforce_plan_driftwood() -> Path:
    doc = _new_docx()
    doc.add_heading("Project Driftwood — Workforce Realignment Plan", level=0)
    doc.add_paragraph(
        "CONFIDENTIAL — HR confidential group only. Pending decision: not approved, not "
        "announced. Owner: Rachel Adeyemi, VP People. Draft 4, 2026-03-19."
    )
    doc.add_heading("Summary", level=1)
    doc.add_paragraph(
        "Project Driftwood would eliminate 27 roles, about 6.5% of current headcount, mainly "
        "in European sales and in customer support functions that Harbor automation now "
        "covers. The savings fund the engineering hires in the FY2026 plan without raising "
        "total operating expenses. The proposal is pending approval by the CEO; nothing has "
        "been communicated to managers or employees."
    )
    doc.add_heading("Roles affected", level=1)
    _docx_table(
        doc,
        ["Function", "Location", "Roles eliminated", "Notes"],
        [
            ["Sales (EMEA)", "Rotterdam", "9", "Consolidate into 3 regional teams"],
            ["Customer support, Tier 1", "Austin", "8", "Harbor self-service and automated triage"],
            ["Marketing", "Austin / remote", "5", "Events and field marketing merged"],
            ["General and administrative", "Austin", "5", "Facilities, AP and recruiting coordination"],
            ["Total", "", "27", ""],
        ],
    )
    doc.add_heading("Timeline (proposed)", level=1)
    _docx_table(
        doc,
        ["Step", "Date"],
        [
            ["CEO decision", "2026-04-17"],
            ["Legal review of selection criteria and adverse impact analysis", "2026-04-20 to 2026-05-08"],
            ["Dutch works consultation and UWV notification (Rotterdam roles)", "from 2026-05-11"],
            ["Manager briefings", "2026-07-13"],
            ["Announcement to affected employees", "2026-07-15"],
            ["Last working day (US)", "2026-07-31"],
        ],
    )
    doc.add_heading("Severance", level=1)
    doc.add_paragraph(
        "US employees would receive 8 weeks of base pay plus 1 week per full year of "
        "service, 3 months of paid COBRA premiums, and outplacement support for 3 months. "
        "Rotterdam employees would receive at least the statutory transition payment, "
        "topped up to the US formula where that is higher."
    )
    doc.add_heading("Financial impact", level=1)
    doc.add_paragraph(
        "Annualized savings are $4.3 million, with one-time costs of $1.1 million "
        "(severance, benefits and outplacement). The WARN Act is not triggered because no "
        "single site loses 50 or more employees."
    )
    doc.add_heading("Risks", level=1)
    for text in [
        "Customer support response times during the transition; Tier 2 must absorb escalations.",
        "Morale in Rotterdam while European sales is reorganized.",
        "Leaks before the announcement: the list of affected roles stays in this document only.",
    ]:
        doc.add_paragraph(text, style="List Bullet")
    return _save_docx(
        doc,
        "hr/confidential/workforce-plan-project-driftwood.docx",
        "Project Driftwood — Workforce Realignment Plan",
    )


def dpa_summary() -> Path:
    doc = _new_docx()
    doc.add_heading("Customer Data Processing Agreement (DPA) — Summary of Terms", level=0)
    doc.add_paragraph(
        "Reference: NW-DPA-3.0 · Prepared by Daniel Brooks, Senior Corporate Counsel · "
        "2026-01-26 · Legal confidential"
    )
    doc.add_heading("When the DPA applies", level=1)
    doc.add_paragraph(
        "Our DPA is attached to every Master Subscription Agreement where the customer "
        "processes personal data in Harbor, such as operator names, badge IDs, user "
        "accounts and video clips recorded around safety events. Northwind acts as a "
        "processor; the customer is the controller."
    )
    doc.add_heading("Key terms", level=1)
    _docx_table(
        doc,
        ["Topic", "Our standard term"],
        [
            ["Breach notification", "Without undue delay, and within 48 hours of becoming aware"],
            ["Sub-processors", "Listed on the trust portal; 30 days' notice of new ones, with a right to object"],
            ["International transfers", "EU Standard Contractual Clauses (module 2) and the UK addendum"],
            ["Hosting regions", "AWS us-east-2 (US customers) and eu-central-1 (EU customers)"],
            ["Audits", "SOC 2 report on request; one on-site audit per year at the customer's cost"],
            ["Deletion", "Customer data deleted within 30 days after the end of the agreement"],
            ["Liability", "Subject to the MSA cap, with the data breach super-cap"],
        ],
    )
    doc.add_paragraph(
        "Under the DPA, Northwind must notify the customer of a personal data breach without "
        "undue delay and in any event within 48 hours of becoming aware of it, with the "
        "information the customer needs for its own notifications."
    )
    doc.add_heading("Current sub-processors", level=1)
    for text in [
        "Amazon Web Services — hosting of Harbor (United States and Germany).",
        "Datadog — logs and monitoring, with personal data filtered before export.",
        "Zendesk — customer support tickets.",
        "Twilio — SMS alerts to site supervisors.",
    ]:
        doc.add_paragraph(text, style="List Bullet")
    doc.add_heading("Common customer requests", level=1)
    doc.add_paragraph(
        "Customers often ask for 24-hour breach notification, unlimited liability for data "
        "breaches, or the right to audit sub-processors directly. We may agree to 36 hours "
        "with General Counsel approval; we do not accept unlimited liability or direct "
        "audits of AWS."
    )
    return _save_docx(doc, "legal/data-processing-agreement-summary.docx", "DPA Summary of Terms")


# --------------------------------------------------------------------------- pptx


def _slide(prs: Any, title: str, lines: list[str]) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[1])
    slide.shapes.title.text = title
    body = slide.placeholders[1].text_frame
    body.clear()
    for i, line in enumerate(lines):
        paragraph = body.paragraphs[0] if i == 0 else body.add_paragraph()
        paragraph.text = line
        paragraph.font.size = PptPt(18)


def _title_slide(prs: Any, title: str, subtitle: str) -> None:
    slide = prs.slides.add_slide(prs.slide_layouts[0])
    slide.shapes.title.text = title
    slide.placeholders[1].text = subtitle


def _save_pptx(prs: Any, rel: str, title: str) -> Path:
    _set_core(prs.core_properties, title)
    path = CORPUS / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    prs.save(path)
    _normalize_zip(path)
    return path


def _new_pptx() -> Any:
    prs = Presentation()
    prs.slide_width = Inches(13.333)
    prs.slide_height = Inches(7.5)
    return prs


def all_hands_q1() -> Path:
    prs = _new_pptx()
    _title_slide(
        prs,
        "Q1 2026 All-Hands",
        "Thursday, March 26, 2026 · Colorado room, Austin, and streamed · Victor Santos and the leadership team",
    )
    _slide(prs, "Agenda", [
        "Where we are: Q1 highlights",
        "Where we focus this year",
        "Product updates: Harbor 4.6 and Tern firmware 4.8",
        "People: growth, benefits, the company summit",
        "Open Q&A with the leadership panel",
    ])
    _slide(prs, "Q1 highlights", [
        "Forty Tern T2 robots went live at Ridgeway Foods in Columbus, our largest go-live of the year.",
        "Harbor 4.6 shipped zone pacing to every customer with zero rollbacks.",
        "Telemetry pipeline v3 now carries all 2,600 connected robots.",
        "Employees reported 64 phishing emails in February. Thank you for staying alert.",
    ])
    _slide(prs, "What matters most this year", [
        "Our company priorities for 2026 are growing Harbor subscriptions, cutting the Tern T2 unit cost by 12%, and reaching zero lost-time safety incidents.",
        "Harbor: every new Tern customer on a multi-year Harbor subscription.",
        "Cost: cheaper motors, a simplified chassis, and fewer parts in the Skiff dock.",
        "Safety: every robot floor visit preceded by AMR Floor Safety training.",
    ])
    _slide(prs, "Product updates", [
        "Tern firmware 4.8 fixes lidar dropouts in cold storage and speeds up reconnects.",
        "Harbor 4.7 (May) adds per-shift pacing limits and a new battery-health report.",
        "Skiff docks now charge at full current below 10 °C.",
    ])
    _slide(prs, "People", [
        "We are 418 people in Austin, Pittsburgh, Rotterdam and across the US.",
        "The 2026 company summit will be held in Austin from September 15 to 17, 2026; travel is booked through Navan.",
        "Benefits: 16 free Lyra sessions per year for you and your family.",
        "Spring volunteer day is Friday, April 24.",
    ])
    _slide(prs, "Q&A", [
        "Ask in #all-hands-questions or use the anonymous form.",
        "Slides and recording will be posted in the company drive by March 27.",
    ])
    return _save_pptx(prs, "company/all-hands-2026-q1.pptx", "Q1 2026 All-Hands")


def engineering_roadmap_h2() -> Path:
    prs = _new_pptx()
    _title_slide(
        prs,
        "Engineering Roadmap — H2 2026",
        "Ingrid Solberg, CTO · Engineering leadership review, 2026-03-24 · Internal strategy: not for contractors",
    )
    _slide(prs, "Themes for the second half of 2026", [
        "Scale Harbor beyond single buildings.",
        "Bring the Tern Reach picking arm (PRJ-ORCA-7) through EVT and DVT.",
        "Next-generation Tern compute module.",
        "Security and compliance: SOC 2 Type II.",
    ])
    _slide(prs, "Harbor", [
        "In the second half of 2026, Harbor 5.0 adds multi-site orchestration, so one Harbor workspace can balance robots across several buildings; release planned for November 2026.",
        "Pick tasks API for Tern Reach, beta in October.",
        "Decision in Q4 on moving databases to managed PostgreSQL (ADR-015).",
    ])
    _slide(prs, "Robotics", [
        "Tern Reach EVT build of 15 units in late June; DVT build of 40 units by October 30.",
        "Tern firmware 5.0 on the new compute module with twice the GPU capacity for perception.",
        "Slip-aware grasp planning in the arm controller (patent filing pending).",
    ])
    _slide(prs, "Security and compliance", [
        "SOC 2 Type II observation window from July 1 to December 31, 2026.",
        "All CI credentials on short-lived OIDC roles (done in March).",
        "Firmware signing key ceremony moved to a second CloudHSM region.",
    ])
    _slide(prs, "Hiring needed", [
        "Fleet Intelligence: 2 engineers for the pick tasks API.",
        "Firmware: 2 senior engineers in Pittsburgh.",
        "Perception: 3 engineers, fewer if a perception acquisition closes.",
    ])
    return _save_pptx(prs, "engineering/strategy/engineering-roadmap-2026-h2.pptx", "Engineering Roadmap H2 2026")


# --------------------------------------------------------------------------- pdf


def _styles() -> tuple[Any, Any, Any]:
    styles = getSampleStyleSheet()
    return styles["Title"], styles["Heading2"], styles["BodyText"]


def _pdf(rel: str, title: str, story: list[Any]) -> Path:
    path = CORPUS / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = SimpleDocTemplate(
        str(path),
        pagesize=LETTER,
        title=title,
        author=AUTHOR,
        creator=AUTHOR,
        producer=AUTHOR,
        subject=title,
        invariant=1,
        leftMargin=inch,
        rightMargin=inch,
        topMargin=inch,
        bottomMargin=inch,
    )
    doc.build(story)
    return path


def _pdf_table(rows: list[list[str]], widths: list[float]) -> Any:
    body = getSampleStyleSheet()["BodyText"]
    data = [[Paragraph(cell, body) for cell in row] for row in rows]
    table = Table(data, colWidths=[w * inch for w in widths])
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
        ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    return table


def code_of_conduct() -> Path:
    title, h2, body = _styles()

    def p(text: str) -> Any:
        return Paragraph(text, body)

    story = [
        Paragraph("Northwind Robotics Code of Conduct", title),
        p("Version 2026.1 · Approved by the Board of Directors · Effective January 1, 2026 · "
          "Applies to every employee, contractor, intern and director."),
        Spacer(1, 8),
        Paragraph("1. Why we have a code", h2),
        p("Our robots work next to people in warehouses every day. Customers trust us with their "
          "operations and their data, and that trust depends on how each of us behaves. This code "
          "sets the minimum standard; when in doubt, ask Legal or the People team."),
        Paragraph("2. Safety first", h2),
        p("Never bypass a safety function on a Tern robot, a Skiff dock or test equipment, and never "
          "ask a customer to do so. Report every injury, near miss or unsafe condition within 24 hours."),
        Paragraph("3. Gifts and entertainment", h2),
        p("You may accept gifts or entertainment from a customer, supplier or partner only if their "
          "total value is $100 or less per person per year and nothing is expected in return. Gifts of "
          "cash or gift cards are never allowed, whatever their value. Anything above $100 must be "
          "declined politely or reported to Legal, who will decide whether it can be kept."),
        _pdf_table([
            ["Situation", "Allowed?"],
            ["Branded mug or notebook from a supplier", "Yes"],
            ["Dinner with a customer during a site visit (normal business meal)", "Yes"],
            ["Concert tickets worth $250 from a motor supplier", "No — decline or report to Legal"],
            ["Gift card of any value", "No"],
            ["Paid travel to a supplier's event", "Only with Legal approval; Northwind pays its own travel"],
        ], [4.2, 2.3]),
        Spacer(1, 8),
        Paragraph("4. Conflicts of interest", h2),
        p("Disclose in Rippling any outside job, board seat, investment above 1% in a customer, "
          "supplier or competitor, or close relative working for one. Disclosure is not wrongdoing; "
          "hiding a conflict is."),
        Paragraph("5. Confidential information", h2),
        p("Protect Northwind's and our customers' confidential information, including customer site "
          "maps, source code, financial results and employee records. Share it only with people who "
          "need it for their work, and only through approved systems."),
        Paragraph("6. Fair dealing and anti-corruption", h2),
        p("We never offer or accept bribes or kickbacks, directly or through agents. Payments to "
          "government officials, including customs officers, need Legal approval in advance."),
        Paragraph("7. Respect at work", h2),
        p("Harassment, discrimination and retaliation are not tolerated. Treat colleagues, customers' "
          "staff and contractors with respect, on site, online and at company events."),
        Paragraph("8. Speaking up", h2),
        p("Raise concerns with your manager, the People team, Legal, or the independent SpeakUp line "
          "at 1-800-555-0199 or speakup.northwind.example, where you can stay anonymous. Northwind "
          "does not tolerate retaliation against anyone who raises a concern in good faith."),
        Paragraph("9. Consequences", h2),
        p("Violations of this code may lead to disciplinary action up to and including termination, "
          "and may be reported to authorities where the law requires."),
    ]
    return _pdf("company/code-of-conduct.pdf", "Northwind Robotics Code of Conduct", story)


def offer_letter_dana_kim() -> Path:
    title, h2, body = _styles()

    def p(text: str) -> Any:
        return Paragraph(text, body)

    story = [
        Paragraph("Offer of Employment", title),
        p("Northwind Robotics, Inc. · 800 Lamar Street, 5th floor, Austin, TX 78701"),
        p("March 9, 2026"),
        Spacer(1, 6),
        p("Dana Kim<br/>dana.kim@northwind.example"),
        Spacer(1, 6),
        p("Dear Dana,"),
        p("We are delighted to offer you the position of Product Designer II (level IC3) at "
          "Northwind Robotics, Inc., reporting to Priya Raman, Head of Design. You will work on "
          "the Harbor fleet dashboard and the Tern Reach operator experience, based in our Austin "
          "office on a hybrid schedule."),
        Paragraph("Compensation", h2),
        p("Your starting base salary will be $136,000 per year, paid semi-monthly and subject to "
          "standard withholdings. You will also receive a one-time sign-on bonus of $10,000, paid "
          "with your first regular payroll; if you leave Northwind within 12 months of your start "
          "date, you agree to repay it in full."),
        _pdf_table([
            ["Item", "Terms"],
            ["Base salary", "$136,000 per year"],
            ["Sign-on bonus", "$10,000, repayable if you leave within 12 months"],
            ["Stock options", "4,000 options, subject to board approval; 4-year vesting, 1-year cliff"],
            ["Start date", "Monday, April 6, 2026"],
            ["Benefits", "Medical, dental, vision, 401(k) with 4% match, 20 PTO days"],
        ], [1.8, 4.7]),
        Spacer(1, 8),
        Paragraph("Equity", h2),
        p("Subject to approval by the Board of Directors, you will be granted an option to purchase "
          "4,000 shares of Northwind common stock. The option vests over four years: 25% after one "
          "year, then monthly over the following 36 months."),
        Paragraph("Start date and conditions", h2),
        p("Your first day will be Monday, April 6, 2026, starting with New Hire Orientation at 9:30. "
          "This offer is contingent on a satisfactory background check, proof of your eligibility "
          "to work in the United States, and signing the Confidential Information and Invention "
          "Assignment Agreement."),
        p("Employment at Northwind is at will. This letter and the agreements it mentions are the "
          "complete terms of your offer."),
        Paragraph("Accepting this offer", h2),
        p("Please sign this letter in Rippling by March 20, 2026, after which the offer expires. We "
          "are excited to have you join us."),
        Spacer(1, 10),
        p("Sincerely,<br/>Rachel Adeyemi<br/>VP, People, Northwind Robotics, Inc."),
    ]
    return _pdf("hr/offers/dana-kim/offer-letter-dana-kim.pdf", "Offer Letter — Dana Kim", story)


def pentest_summary() -> Path:
    title, h2, body = _styles()

    def p(text: str) -> Any:
        return Paragraph(text, body)

    story = [
        Paragraph("2026 Penetration Test — Executive Summary", title),
        p("Report PT-2026-01 · Tester: Ironbark Security · Testing window: January 12 to January 30, "
          "2026 · Summary prepared by Mei Tanaka, Security Engineering · Security team only"),
        Spacer(1, 6),
        Paragraph("Scope", h2),
        p("Ironbark tested the Harbor web application and public APIs, the robot-to-cloud MQTT "
          "interface, the Harbor mobile app, and the corporate Okta and Google Workspace "
          "configuration. Robots at customer sites were out of scope; two Tern T2 robots on the "
          "Pittsburgh test floor were in scope."),
        Paragraph("Results", h2),
        p("The 2026 penetration test found 16 issues: 2 high, 5 medium and 9 low severity findings, "
          "and no critical findings. Both high severity findings were fixed and retested before "
          "February 11, 2026."),
        _pdf_table([
            ["ID", "Finding", "Severity", "Status"],
            ["PT-01", "Server-side request forgery in the Harbor webhook tester", "High", "Fixed 2026-02-06"],
            ["PT-02", "Fleet export API returned another tenant's export when the job ID was guessed (IDOR)", "High", "Fixed 2026-02-10"],
            ["PT-03", "MQTT broker accepted expired robot certificates for 24 hours", "Medium", "Fixed 2026-02-18"],
            ["PT-04", "Session cookies in the mobile app lacked the SameSite attribute", "Medium", "Fixed 2026-02-20"],
            ["PT-05", "Rate limiting missing on the password-reset endpoint", "Medium", "Fixed 2026-02-13"],
            ["PT-06", "Verbose stack traces on two admin endpoints", "Medium", "Open, due 2026-04-30"],
            ["PT-07", "Robot maintenance port reachable on the lab network", "Medium", "Open, due 2026-04-30"],
        ], [0.6, 3.6, 0.8, 1.5]),
        Spacer(1, 8),
        Paragraph("Positive observations", h2),
        p("Tenant isolation in the Harbor database held under every test other than PT-02. Firmware "
          "images were correctly rejected when unsigned or signed with a test key. Okta policies "
          "enforced phishing-resistant MFA for administrators."),
        Paragraph("Next steps", h2),
        p("The remaining medium and low findings follow the vulnerability management standard (SEC-STD-004). "
          "The next external penetration test is scheduled for January 2027, with a focused test of the "
          "Tern Reach arm controller before its pilot."),
    ]
    return _pdf("engineering/security/pentest-2026-summary.pdf", "2026 Penetration Test — Executive Summary", story)


BUILDERS = [
    performance_review_cycle,
    workforce_plan_driftwood,
    dpa_summary,
    all_hands_q1,
    engineering_roadmap_h2,
    code_of_conduct,
    offer_letter_dana_kim,
    pentest_summary,
]


def main() -> None:
    for build in BUILDERS:
        path = build()
        print(f"{path.relative_to(CORPUS)}  {path.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
