"""Test documents of every supported type, generated in code (no fixture files on disk)."""

from __future__ import annotations

import io

from core.types import Acl, RawDocument

SECRET = "Zanzibar-7731"
"""A word planted in documents: error messages must never contain it."""


def raw(content: bytes, mime_type: str, *, title: str = "Doc") -> RawDocument:
    return RawDocument(external_id="doc-1", title=title, content=content, mime_type=mime_type,
                       acl=Acl.of(["everyone"]))


def docx_bytes() -> bytes:
    import docx

    document = docx.Document()
    document.sections[0].header.paragraphs[0].text = "Acme internal header"
    document.add_heading("Employee Handbook", 0)
    document.add_heading("Leave policy", 1)
    document.add_paragraph(f"Employees accrue twenty days of paid leave. Code {SECRET}.")
    document.add_heading("Sick leave", 2)
    document.add_paragraph("Sick leave needs a note after three days.")
    document.add_paragraph("First bullet", style="List Bullet")
    document.add_paragraph("Second bullet", style="List Bullet")
    table = document.add_table(rows=3, cols=2)
    for r, row in enumerate([("Grade", "Days"), ("Junior", "20"), ("Senior", "25")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pptx_bytes() -> bytes:
    import pptx
    from pptx.util import Inches

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[1])
    slide.shapes.title.text = "Quarterly results"
    body = slide.placeholders[1].text_frame
    body.text = "Revenue grew twelve percent"
    body.add_paragraph().text = "Key markets"
    numbers = deck.slides.add_slide(deck.slide_layouts[5])
    numbers.shapes.title.text = "Numbers"
    grid = numbers.shapes.add_table(2, 2, Inches(1), Inches(2), Inches(4), Inches(1)).table
    for (r, c), value in {(0, 0): "Region", (0, 1): "Sales", (1, 0): "EMEA", (1, 1): "4.2"}.items():
        grid.cell(r, c).text = value
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def pdf_bytes(*, encrypt: str | None = None) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate

    styles = getSampleStyleSheet()
    story = [
        Paragraph("Travel Policy", styles["Title"]),
        Paragraph("Booking", styles["Heading2"]),
        Paragraph("Book travel through the portal fourteen days ahead. " * 4, styles["BodyText"]),
        Paragraph(f"Per diem rates are listed below. Code {SECRET}.", styles["BodyText"]),
        PageBreak(),
        Paragraph("Expenses", styles["Heading3"]),
        Paragraph("Submit receipts within thirty days.", styles["BodyText"]),
    ]
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, encrypt=encrypt).build(story)
    return buffer.getvalue()


def blank_pdf_bytes() -> bytes:
    """A PDF with a drawing and no text layer, like a scan."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.rect(100, 100, 200, 200, fill=1)
    page.save()
    return buffer.getvalue()


MARKDOWN = f"""# Onboarding

Welcome to the team. Your badge code is {SECRET}.

## First week

- Meet your buddy
- Set up your laptop
  - Install the VPN

| Day | Task |
|-----|------|
| Mon | Laptop |
| Tue | Training |

### Tools

We use the ticket tracker daily.
"""

HTML = f"""<!doctype html><html><head><title>Ignored head title</title>
<script>var tracking = 1;</script></head><body>
<h1>Security</h1><p>Report incidents within one hour. Code {SECRET}.</p>
<h2>Passwords</h2><p>Use the password manager.</p>
<ul><li>Never reuse</li><li>Rotate yearly</li></ul>
<table><tr><th>Level</th><th>Response</th></tr><tr><td>High</td><td>1 hour</td></tr></table>
<h3>Phishing</h3><p>Forward suspicious mail.</p></body></html>"""
