"""Check the demo company: corpus ACLs, groups and the expected answers of questions.json.

Standard library only. Run from anywhere:

    python api/demo/check_demo.py            # summary + checks, exit 1 on any error
    python api/demo/check_demo.py --quiet    # only problems and the final line

Rules checked (the same ones the loader of ``clearance serve --demo`` applies):

* A folder's ``.acl.json`` ({"allow": [...], "deny": [...]}) applies to its files and
  sub-folders. A sub-folder's own ``.acl.json`` replaces the inherited allow list; deny lists
  accumulate down the tree. A file with no ``.acl.json`` above it has an empty allow list
  (nobody may read it), which is reported as an error.
* Principals are ``user:<email>`` (lower-cased), ``group:<name>`` or ``everyone``. Groups may
  contain groups; the members of ``admins`` in company.json form ``group:clearance-admins``.
* A user may read a document when their entitlements ({the user, everyone, every group
  that contains them, transitively}) meet the allow list and miss the deny list.

For every row of questions.json: the user exists; with an ``expect`` path, the document
exists, that user may read it, and it contains the question's distinctive terms (codes,
numbers, capitalised names — the words an answerer requires to be present); with
``expect: null``, the checker reports which documents the question targets (those that
contain all its distinctive terms) and fails if the user can read any of them.
"""

from __future__ import annotations

import base64
import html
import json
import re
import sys
import zipfile
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
COMPANY = HERE / "company.json"
QUESTIONS = HERE / "questions.json"

ADMIN_GROUP = "group:clearance-admins"
EVERYONE = "everyone"
DOC_TYPES = {".md", ".txt", ".html", ".docx", ".pptx", ".pdf"}
MIN_DOCS = 44
MIN_BY_TYPE = {".html": 3, ".docx": 2, ".pptx": 2, ".pdf": 2}
MAX_BINARY_BYTES = 60 * 1024
MIN_QUESTIONS = 24
WORDS_RANGE = (150, 900)

_USER = re.compile(r"^user:[a-z0-9._%+-]+@[a-z0-9.-]+\.[a-z]{2,}$")
_GROUP = re.compile(r"^group:[a-z0-9][a-z0-9._:-]*$")

# Words that are capitalised in questions but are no names (mirrors answer/text.py loosely).
_STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers him his how i if in into is it its me more
    most my of off on once only or other our ours out over own same she should so some such
    than that the their them then there these they this those through to too under until up
    very was we were what when where which while who whom whose why will with would you your
    also may might must shall us one via within get got""".split()
)
_CODE = re.compile(r"\b[A-Za-z0-9]+(?:[-_/.][A-Za-z0-9]+)*\b")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_TOKEN = re.compile(r"[a-z0-9]+")


class Report:
    def __init__(self) -> None:
        self.errors: list[str] = []
        self.warnings: list[str] = []

    def error(self, message: str) -> None:
        self.errors.append(message)

    def warn(self, message: str) -> None:
        self.warnings.append(message)


# --------------------------------------------------------------------------- principals


def valid_principal(pid: str) -> bool:
    return pid == EVERYONE or bool(_USER.match(pid)) or bool(_GROUP.match(pid))


def load_company(report: Report) -> tuple[dict[str, Any], dict[str, set[str]]]:
    company = json.loads(COMPANY.read_text(encoding="utf-8"))
    for key in ("tenant", "users", "groups", "admins"):
        if key not in company:
            report.error(f"company.json: missing key {key!r}")
    users = {u["id"]: u for u in company.get("users", [])}
    for uid, user in users.items():
        if not _USER.match(uid):
            report.error(f"company.json: bad user id {uid!r} (must be user:<lower-case email>)")
        for field in ("name", "title"):
            if not user.get(field):
                report.error(f"company.json: user {uid} has no {field}")
    groups: dict[str, set[str]] = {}
    for gid, members in company.get("groups", {}).items():
        if not _GROUP.match(gid):
            report.error(f"company.json: bad group id {gid!r}")
        groups[gid] = set(members)
    if ADMIN_GROUP in groups:
        report.warn(f"company.json: {ADMIN_GROUP} is listed in groups; admins are merged into it")
    groups.setdefault(ADMIN_GROUP, set()).update(company.get("admins", []))
    for gid, members in groups.items():
        for member in members:
            if member.startswith("user:") and member not in users:
                report.error(f"company.json: {gid} contains unknown user {member}")
            elif member.startswith("group:") and member not in groups:
                report.error(f"company.json: {gid} contains unknown group {member}")
            elif not valid_principal(member) or member == EVERYONE:
                report.error(f"company.json: {gid} has invalid member {member!r}")
    for admin in company.get("admins", []):
        if admin not in users:
            report.error(f"company.json: admin {admin} is not a user")
    _check_cycles(groups, report)
    return company, groups


def _check_cycles(groups: dict[str, set[str]], report: Report) -> None:
    state: dict[str, int] = {}

    def visit(gid: str, path: list[str]) -> None:
        state[gid] = 1
        for member in groups.get(gid, ()):
            if not member.startswith("group:"):
                continue
            if state.get(member) == 1:
                report.error("company.json: group cycle " + " -> ".join(path + [member]))
            elif member not in state:
                visit(member, path + [member])
        state[gid] = 2

    for gid in groups:
        if gid not in state:
            visit(gid, [gid])


def entitlements(user: str, groups: dict[str, set[str]]) -> set[str]:
    """The user, everyone, and every group that contains the user (transitively)."""
    parents: dict[str, set[str]] = defaultdict(set)
    for gid, members in groups.items():
        for member in members:
            parents[member].add(gid)
    found = {user, EVERYONE}
    frontier = [user]
    while frontier:
        current = frontier.pop()
        for gid in parents.get(current, ()):
            if gid not in found:
                found.add(gid)
                frontier.append(gid)
    return found


def group_chain(user: str, group: str, groups: dict[str, set[str]]) -> list[str] | None:
    """One membership path user -> ... -> group, for the report."""
    parents: dict[str, set[str]] = defaultdict(set)
    for gid, members in groups.items():
        for member in members:
            parents[member].add(gid)
    queue = [[user]]
    seen = {user}
    while queue:
        path = queue.pop(0)
        if path[-1] == group:
            return path
        for gid in sorted(parents.get(path[-1], ())):
            if gid not in seen:
                seen.add(gid)
                queue.append(path + [gid])
    return None


# --------------------------------------------------------------------------- corpus and ACLs


class Doc:
    def __init__(self, rel: str, path: Path, folder: str, allow: list[str], deny: list[str]):
        self.rel = rel
        self.path = path
        self.folder = folder
        self.allow = allow
        self.deny = deny
        self.text = ""

    def readable_by(self, ents: set[str]) -> bool:
        return bool(ents.intersection(self.allow)) and not ents.intersection(self.deny)


def walk_corpus(report: Report, groups: dict[str, set[str]],
                ) -> tuple[list[Doc], dict[str, tuple[list[str], list[str], bool]]]:
    docs: list[Doc] = []
    folder_acls: dict[str, tuple[list[str], list[str], bool]] = {}

    def read_acl(folder: Path) -> dict[str, Any] | None:
        acl_path = folder / ".acl.json"
        if not acl_path.exists():
            return None
        rel = acl_path.relative_to(CORPUS).as_posix()
        try:
            acl = json.loads(acl_path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            report.error(f"{rel}: invalid JSON ({exc})")
            return None
        if not isinstance(acl, dict) or set(acl) - {"allow", "deny"}:
            report.error(f"{rel}: must be an object with only 'allow' and 'deny'")
            if not isinstance(acl, dict):
                return None
        for key in ("allow", "deny"):
            values = acl.get(key, [])
            if not isinstance(values, list):
                report.error(f"{rel}: {key!r} must be a list")
                continue
            for pid in values:
                if not valid_principal(pid):
                    report.error(f"{rel}: invalid principal {pid!r}")
                elif pid.startswith("group:") and pid not in groups:
                    report.error(f"{rel}: unknown group {pid}")
        return acl

    def walk(folder: Path, allow: list[str], deny: list[str]) -> None:
        acl = read_acl(folder)
        own = acl is not None
        if acl is not None:
            if "allow" in acl:  # absent: the inherited allow list stays
                allow = list(acl["allow"])
            deny = deny + [d for d in acl.get("deny", []) if d not in deny]
        rel_folder = folder.relative_to(CORPUS).as_posix() if folder != CORPUS else "."
        folder_acls[rel_folder] = (allow, deny, own)
        for entry in sorted(folder.iterdir()):
            if entry.is_dir():
                walk(entry, allow, deny)
            elif entry.name == ".acl.json":
                continue
            elif entry.name.startswith("."):
                report.warn(f"{entry.relative_to(CORPUS)}: hidden file ignored")
            elif entry.suffix.lower() not in DOC_TYPES:
                report.error(f"{entry.relative_to(CORPUS)}: unsupported file type")
            else:
                rel = entry.relative_to(CORPUS).as_posix()
                doc = Doc(rel, entry, rel_folder, allow, deny)
                if not allow:
                    report.error(f"{rel}: empty allow list (no .acl.json above it): nobody can read it")
                docs.append(doc)

    walk(CORPUS, [], [])
    return docs, folder_acls


# --------------------------------------------------------------------------- text extraction


def _strip_xml(xml: str, paragraph_tags: tuple[str, ...]) -> str:
    for tag in paragraph_tags:
        xml = re.sub(rf"</{tag}>", "\n", xml)
    xml = re.sub(r"<[^>]+>", "", xml)
    return html.unescape(xml)


def _office_text(path: Path, members: re.Pattern[str], paragraph_tags: tuple[str, ...]) -> str:
    parts = []
    with zipfile.ZipFile(path) as zf:
        names = sorted(
            (n for n in zf.namelist() if members.match(n)),
            key=lambda n: [int(x) if x.isdigit() else x for x in re.split(r"(\d+)", n)],
        )
        for name in names:
            parts.append(_strip_xml(zf.read(name).decode("utf-8"), paragraph_tags))
    return "\n".join(parts)


def _pdf_string(raw: bytes) -> str:
    out = bytearray()
    i = 0
    while i < len(raw):
        c = raw[i]
        if c == 0x5C and i + 1 < len(raw):  # backslash
            nxt = raw[i + 1]
            if 0x30 <= nxt <= 0x37:
                digits = re.match(rb"[0-7]{1,3}", raw[i + 1 : i + 4])
                assert digits is not None  # raw[i + 1] is an octal digit
                octal = digits.group(0)
                out.append(int(octal, 8) & 0xFF)
                i += 1 + len(octal)
                continue
            out.append({ord("n"): 10, ord("r"): 13, ord("t"): 9}.get(nxt, nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return out.decode("cp1252", errors="replace")


def _pdf_text(path: Path) -> str:
    data = path.read_bytes()
    texts = []
    for match in re.finditer(rb"<<(.*?)>>\s*stream\r?\n(.*?)endstream", data, re.S):
        header, body = match.group(1), match.group(2).rstrip()
        try:
            if b"ASCII85Decode" in header:
                body = base64.a85decode(body.rstrip(b"~>").strip() if body.endswith(b"~>") else body)
            if b"FlateDecode" in header:
                body = zlib.decompress(body)
        except (ValueError, zlib.error):
            continue
        lines = []
        for op in re.finditer(rb"\((?:\\.|[^\\)])*\)\s*Tj|\[(?:[^\]]*)\]\s*TJ|T\*|ET", body, re.S):
            token = op.group(0)
            if token in (b"T*", b"ET"):
                lines.append("\n")
                continue
            for s in re.finditer(rb"\(((?:\\.|[^\\)])*)\)", token, re.S):
                lines.append(_pdf_string(s.group(1)))
        texts.append(" ".join(lines))
    return "\n".join(texts)


def extract_text(doc: Doc) -> str:
    suffix = doc.path.suffix.lower()
    if suffix in (".md", ".txt"):
        return doc.path.read_text(encoding="utf-8")
    if suffix == ".html":
        raw = doc.path.read_text(encoding="utf-8")
        raw = re.sub(r"<(script|style)\b.*?</\1>", "", raw, flags=re.S | re.I)
        return html.unescape(re.sub(r"<[^>]+>", " ", raw))
    if suffix == ".docx":
        return _office_text(doc.path, re.compile(r"word/document\.xml$"), ("w:p",))
    if suffix == ".pptx":
        return _office_text(doc.path, re.compile(r"ppt/slides/slide\d+\.xml$"), ("a:p",))
    if suffix == ".pdf":
        return _pdf_text(doc.path)
    return ""


# --------------------------------------------------------------------------- questions


def distinctive_terms(question: str) -> list[str]:
    """Codes, numbers and capitalised names of a question (first word excluded)."""
    found: list[str] = []
    for match in _CODE.finditer(question):
        token = match.group(0)
        if any(c.isdigit() for c in token) and any(c.isalpha() for c in token):
            found.append(token)
    for match in _NUMBER.finditer(question):
        inside = any(
            m.start() <= match.start() and match.end() <= m.end() and any(c.isalpha() for c in m.group(0))
            for m in _CODE.finditer(question)
        )
        if not inside:
            found.append(match.group(0))
    for position, word in enumerate(question.split()):
        name = word.strip("\"'()[]{},.;:?!")
        if name.endswith("'s"):
            name = name[:-2]
        if position == 0 or not name[:1].isupper() or not name.isalpha():
            continue
        if name.lower() in _STOPWORDS or len(name) == 1:
            continue
        found.append(name)
    return list(dict.fromkeys(found))


def term_present(term: str, text_lower: str, tokens: set[str]) -> bool:
    if any(c.isalpha() for c in term) and any(c.isdigit() for c in term):
        parts = re.findall(r"[a-z]+|\d+", term.lower())
        pattern = r"[-_/. ]?".join(re.escape(p) for p in parts)
        return re.search(rf"(?<![a-z0-9]){pattern}(?![a-z0-9])", text_lower) is not None
    if term[0].isdigit():
        plain = term.replace(",", "")
        return plain in {t.replace(",", "") for t in re.findall(r"\d+(?:[.,]\d+)*", text_lower)}
    wanted = term.lower()
    if wanted in tokens:
        return True
    for token in tokens:
        shorter, longer = sorted((wanted, token), key=len)
        if len(shorter) >= 4 and len(shorter) >= 0.6 * len(longer) and longer.startswith(shorter):
            return True
    return False


def check_questions(
    questions: list[dict[str, Any]],
    docs: list[Doc],
    users: dict[str, Any],
    groups: dict[str, set[str]],
    report: Report,
) -> list[tuple[str, str, str, str]]:
    by_rel = {d.rel: d for d in docs}
    lowered = {d.rel: d.text.lower() for d in docs}
    tokens = {d.rel: set(_TOKEN.findall(lowered[d.rel])) for d in docs}
    rows: list[tuple[str, str, str, str]] = []
    if len(questions) < MIN_QUESTIONS:
        report.error(f"questions.json: {len(questions)} rows, at least {MIN_QUESTIONS} required")
    for n, row in enumerate(questions, start=1):
        for key in ("user", "question", "expect", "why"):
            if key not in row:
                report.error(f"question {n}: missing key {key!r}")
        user, question, expect = str(row.get("user")), row.get("question", ""), row.get("expect")
        if user not in users:
            report.error(f"question {n}: unknown user {user}")
            continue
        ents = entitlements(user, groups)
        terms = distinctive_terms(question)
        readable = [d for d in docs if d.readable_by(ents)]
        if expect is not None:
            doc = by_rel.get(expect)
            if doc is None:
                report.error(f"question {n}: expected document {expect} does not exist")
                rows.append((str(n), user, "FAIL", f"missing {expect}"))
                continue
            if not doc.readable_by(ents):
                report.error(f"question {n}: {user} cannot read expected document {expect}")
                rows.append((str(n), user, "FAIL", f"not readable: {expect}"))
                continue
            missing = [t for t in terms if not term_present(t, lowered[expect], tokens[expect])]
            if missing:
                report.error(f"question {n}: expected document {expect} lacks question terms {missing}")
            via = _via(user, doc, groups, ents)
            rows.append((str(n), user, "ok", f"reads {expect} via {via}"))
        else:
            if not terms:
                rows.append((str(n), user, "ok", "abstain: no distinctive term (off-topic or evidence threshold)"))
                continue
            targets = [
                d for d in docs
                if all(term_present(t, lowered[d.rel], tokens[d.rel]) for t in terms)
            ]
            leaking = [d.rel for d in targets if d in readable]
            hidden = [d.rel for d in targets if d not in readable]
            if leaking:
                report.error(f"question {n}: expect null but {user} can read {leaking} containing {terms}")
                rows.append((str(n), user, "FAIL", f"readable target {leaking}"))
            else:
                spread = all(
                    any(term_present(t, lowered[d.rel], tokens[d.rel]) for d in readable)
                    for t in terms
                )
                note = " [terms spread over readable docs: relies on evidence threshold]" if spread else ""
                if hidden:
                    detail = f"abstain: targets restricted {', '.join(hidden)}"
                else:
                    detail = f"abstain: off-topic (no document has {terms})"
                rows.append((str(n), user, "ok", detail + note))
    return rows


def _via(user: str, doc: Doc, groups: dict[str, set[str]], ents: set[str]) -> str:
    for pid in doc.allow:
        if pid not in ents:
            continue
        if pid in (EVERYONE, user):
            return pid
        chain = group_chain(user, pid, groups)
        if chain:
            return " > ".join(p.split(":", 1)[1].split("@")[0] for p in chain)
    return "?"


# --------------------------------------------------------------------------- report


def short(pid: str) -> str:
    if pid.startswith("user:"):
        return pid[5:].split("@")[0]
    return pid


def table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def main(argv: list[str]) -> int:
    quiet = "--quiet" in argv
    report = Report()
    company, groups = load_company(report)
    users = {u["id"]: u for u in company.get("users", [])}
    docs, folder_acls = walk_corpus(report, groups)
    for doc in docs:
        try:
            doc.text = extract_text(doc)
        except Exception as exc:  # noqa: BLE001 - report any unreadable file
            report.error(f"{doc.rel}: cannot extract text ({exc})")
        words = len(doc.text.split())
        if words < 50:
            report.error(f"{doc.rel}: only {words} words of text extracted")
        elif not WORDS_RANGE[0] <= words <= WORDS_RANGE[1]:
            report.warn(f"{doc.rel}: {words} words (typical range {WORDS_RANGE})")
        if doc.path.suffix.lower() in (".docx", ".pptx", ".pdf"):
            size = doc.path.stat().st_size
            if size > MAX_BINARY_BYTES:
                report.error(f"{doc.rel}: {size} bytes, over {MAX_BINARY_BYTES}")

    by_type: dict[str, int] = defaultdict(int)
    for doc in docs:
        by_type[doc.path.suffix.lower()] += 1
    if len(docs) < MIN_DOCS:
        report.error(f"corpus: {len(docs)} documents, at least {MIN_DOCS} required")
    for suffix, minimum in MIN_BY_TYPE.items():
        if by_type[suffix] < minimum:
            report.error(f"corpus: {by_type[suffix]} {suffix} files, at least {minimum} required")
    if not any(d.deny for d in docs):
        report.error("corpus: no document has a deny rule")

    user_ents = {uid: entitlements(uid, groups) for uid in users}
    questions = json.loads(QUESTIONS.read_text(encoding="utf-8"))
    q_rows = check_questions(questions, docs, users, groups, report)

    if not quiet:
        print(f"Corpus: {len(docs)} documents  " + "  ".join(
            f"{k}={v}" for k, v in sorted(by_type.items())))
        print()
        print("Documents per folder and who can read them")
        rows = []
        per_folder: dict[str, list[Doc]] = defaultdict(list)
        for doc in docs:
            per_folder[doc.folder].append(doc)
        for folder in sorted(per_folder):
            allow, deny, own = folder_acls[folder]
            members = per_folder[folder]
            readers = [short(u) for u in users if members[0].readable_by(user_ents[u])]
            rows.append([
                folder + "/",
                str(len(members)),
                ",".join(allow) + ("" if own else " (inherited)"),
                ",".join(deny) or "-",
                ", ".join(readers) if len(readers) < len(users) else f"all {len(users)} users",
            ])
        print(table(["folder", "docs", "allow", "deny", "readers (demo users)"], rows))
        print()
        print("Users, groups (transitive) and readable documents")
        rows = []
        for uid, user in users.items():
            ents = sorted(e for e in user_ents[uid] if e.startswith("group:"))
            count = sum(d.readable_by(user_ents[uid]) for d in docs)
            rows.append([short(uid), user["title"][:44], ", ".join(g[6:] for g in ents) or "-", str(count)])
        print(table(["user", "title", "groups", "docs"], rows))
        print()
        print(f"Questions: {len(questions)} ({sum(q['expect'] is None for q in questions)} expect abstention)")
        print(table(["#", "user", "check", "detail"], [[n, short(u), s, d] for n, u, s, d in q_rows]))
        print()

    for message in report.warnings:
        print(f"WARNING: {message}")
    for message in report.errors:
        print(f"ERROR: {message}")
    status = "FAILED" if report.errors else "PASSED"
    print(f"{status}: {len(docs)} documents, {len(users)} users, {len(groups)} groups, "
          f"{len(questions)} questions, {len(report.errors)} errors, {len(report.warnings)} warnings")
    return 1 if report.errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
