/* The admin pages. They only call the v1 admin routes with the signed-in admin's own
   credential; the API enforces who is an admin (a non-admin gets 403 from every route). */
"use strict";

(async () => {
  const {el, fill, api, ApiError, describeError, formatTime, safeHref} = window.Clearance;
  const formatDay = (value) => new Date(value).toLocaleDateString(undefined, {dateStyle: "medium"});
  const $ = (id) => document.getElementById(id);
  const adminApi = (path, options = {}) => api(path, {...options, admin: true});
  const groupPath = (id) => "/v1/groups/" + encodeURIComponent(id.replace(/^group:/, ""));
  const lines = (text) => text.split(/[\n,]/).map((s) => s.trim()).filter(Boolean);

  function failure(err) {
    return el("p", {class: "error-text", role: "alert"}, describeError(err));
  }

  function denied(me) {
    const who = me && (me.name || me.user_id);
    if (who) {
      $("admin-denied").querySelector("p").textContent =
        `This page is for Clearance admins, and ${who.replace(/^user:/, "")} isn't one.`;
    }
    $("admin-denied").hidden = false;
    $("admin-area").remove();  // nothing of the admin views stays in the page
  }

  function announce(text) {
    const status = $("status");
    if (status) status.textContent = text;
  }

  function pill(text, tone) {
    return el("span", {class: `pill ${tone || ""}`}, text);
  }

  function table(columns, rows, {caption} = {}) {
    return el("table", {class: "data"},
      caption ? el("caption", {class: "visually-hidden"}, caption) : null,
      el("thead", {}, el("tr", {}, columns.map((c) => el("th", {scope: "col"}, c.label)))),
      el("tbody", {}, rows.map((row) => el("tr", {}, columns.map((c) =>
        el("td", {"data-label": c.label, class: c.nowrap ? "nowrap" : null}, c.value(row)))))));
  }

  /* For a view that reloads: each call to the returned function starts a request and
     returns a check that stays true only while no newer request has started. A slow
     first load that answers after the admin's filtered one is dropped instead of
     replacing it. */
  function latestOnly() {
    let newest = 0;
    return () => {
      const mine = ++newest;
      return () => mine === newest;
    };
  }

  /* A long id cut to its start, whole in the tooltip. */
  function shortId(text, keep = 14) {
    if (!text) return "—";
    return text.length <= keep + 2 ? text : el("span", {title: text}, text.slice(0, keep) + "…");
  }

  // --- sources ----------------------------------------------------------------------

  const STATUS_TONE = {ok: "good", running: "busy", failed: "bad", needs_credentials: "bad",
                       idle: ""};

  async function sourcesPage() {
    const box = $("sources");
    let polling = null;

    async function load() {
      try {
        const data = await adminApi("/v1/sources");
        box.replaceChildren(...data.sources.map(sourceCard));
        if (!data.sources.length) {
          box.append(el("p", {class: "muted"}, "No sources yet: create one with POST /v1/sources."));
        }
        return data.sources;
      } catch (err) {
        box.replaceChildren(failure(err));
        return [];
      }
    }

    function sourceCard(source) {
      const run = source.last_run;
      const docs = Object.entries(source.documents || {})
        .map(([state, n]) => `${n} ${state}`).join(", ") || "none";
      const sync = el("button", {type: "button", class: "button"}, "Sync now");
      const note = el("p", {class: "muted", role: "status"});
      sync.addEventListener("click", async () => {
        sync.disabled = true;
        try {
          const accepted = await adminApi(`/v1/sources/${encodeURIComponent(source.id)}/sync`,
                                          {method: "POST"});
          note.textContent = accepted.status === "running"
            ? "A sync of this source is already running." : "Sync started.";
          announce(`Sync of ${source.name} started.`);
          watch();
        } catch (err) {
          note.textContent = describeError(err);
          sync.disabled = false;
        }
      });
      const runs = el("details", {class: "runs"}, el("summary", {}, "Recent runs"));
      runs.addEventListener("toggle", async () => {
        if (!runs.open || runs.dataset.loaded) return;
        runs.dataset.loaded = "1";
        try {
          const data = await adminApi(`/v1/sources/${encodeURIComponent(source.id)}/runs`,
                                      {query: {limit: 10}});
          runs.append(data.runs.length ? table([
            {label: "Started", value: (r) => formatTime(r.started_at)},
            {label: "Kind", value: (r) => r.kind},
            {label: "Status", value: (r) => r.status},
            {label: "Seen", value: (r) => r.seen},
            {label: "New", value: (r) => r.new},
            {label: "Changed", value: (r) => r.changed},
            {label: "Deleted", value: (r) => r.deleted},
            {label: "Failed", value: (r) => r.failed},
            {label: "Error", value: (r) => (r.error ? r.error.code : "")},
          ], data.runs, {caption: `Runs of ${source.name}`})
            : el("p", {class: "muted"}, "No runs yet."));
        } catch (err) {
          runs.append(failure(err));
        }
      });
      return el("article", {class: "card source-card", "aria-labelledby": `src-${source.id}`},
        el("div", {class: "source-head"},
          el("h2", {id: `src-${source.id}`}, source.name),
          pill(source.status.replace("_", " "), STATUS_TONE[source.status])),
        el("p", {class: "muted small"}, `${source.kind} · id ${source.id}`),
        el("dl", {class: "facts"},
          el("div", {}, el("dt", {}, "Documents"), el("dd", {}, docs)),
          el("div", {}, el("dt", {}, "Chunks"), el("dd", {}, String(source.chunks))),
          el("div", {}, el("dt", {}, "Last run"), el("dd", {}, run
            ? `${formatTime(run.started_at)} · ${run.kind} · ${run.status}` : "never")),
          run ? el("div", {}, el("dt", {}, "Last run counts"), el("dd", {},
            `${run.seen} seen, ${run.new} new, ${run.changed} changed, ${run.unchanged} ` +
            `unchanged, ${run.deleted} deleted, ${run.failed} failed`)) : null),
        run && run.error ? el("p", {class: "error-text"},
          `${run.error.code}: ${run.error.message}`) : null,
        el("div", {class: "actions"}, sync, runs),
        note);
    }

    function watch() {
      clearTimeout(polling);
      let rounds = 0;
      const tick = async () => {
        const sources = await load();
        rounds += 1;
        if (sources.some((s) => s.status === "running") && rounds < 60) {
          polling = setTimeout(tick, 1500);
        }
      };
      polling = setTimeout(tick, 500);
    }

    $("refresh").addEventListener("click", () => { load(); announce("Refreshed."); });
    await load();
  }

  // --- groups -----------------------------------------------------------------------

  async function groupsPage() {
    const box = $("groups");
    const more = $("groups-more");
    let cursor = null;
    let query = "";

    function memberList(members, path) {
      if (!members.length) return el("p", {class: "muted small"}, "No members.");
      const sorted = [...members].sort((a, b) =>
        (a.startsWith("group:") ? 0 : 1) - (b.startsWith("group:") ? 0 : 1) || a.localeCompare(b));
      return el("ul", {class: "members"}, sorted.map((member) => {
        if (!member.startsWith("group:")) {
          return el("li", {class: "member user"}, member.replace(/^user:/, ""));
        }
        if (path.includes(member)) return el("li", {class: "member"}, `${member} (cycle)`);
        const nested = el("details", {class: "nested"},
          el("summary", {}, member));
        nested.addEventListener("toggle", async () => {
          if (!nested.open || nested.dataset.loaded) return;
          nested.dataset.loaded = "1";
          try {
            const group = await adminApi(groupPath(member));
            nested.append(memberList(group.members, [...path, member]));
          } catch (err) {
            nested.append(err instanceof ApiError && err.status === 404
              ? el("p", {class: "muted small"}, "Not a known group: it reaches nobody.")
              : failure(err));
          }
        });
        return el("li", {class: "member group"}, nested);
      }));
    }

    function groupCard(group) {
      const body = el("div", {class: "group-body"}, memberList(group.members, [group.id]));
      const card = el("details", {class: "group-card"},
        el("summary", {},
          el("span", {class: "group-name"}, group.id),
          el("span", {class: "muted small"},
            ` ${group.members.length} member${group.members.length === 1 ? "" : "s"}`),
          group.source_id ? pill("synced", "") : null),
        body);
      if (!group.source_id) {
        const edit = el("button", {type: "button", class: "button secondary small"}, "Edit members");
        edit.addEventListener("click", () => {
          const area = el("textarea", {id: `edit-${group.name}`, rows: "4"},
                          group.members.join("\n"));
          const note = el("p", {role: "status"});
          const editor = el("form", {class: "stack"},
            el("label", {for: `edit-${group.name}`}, "Members, one per line"), area,
            el("button", {type: "submit", class: "button small"}, "Save members"), note);
          editor.addEventListener("submit", async (event) => {
            event.preventDefault();
            try {
              const saved = await adminApi(groupPath(group.id), {method: "PUT",
                body: {members: lines(area.value)}});
              card.replaceWith(groupCard(saved));
              announce(`Saved ${saved.id}.`);
            } catch (err) {
              note.replaceChildren(failure(err));
            }
          });
          edit.replaceWith(editor);
          area.focus();
        });
        body.append(edit);
      } else {
        body.append(el("p", {class: "muted small"}, "Synced from its source: change it there."));
      }
      return card;
    }

    const begin = latestOnly();

    async function search(reset) {
      const current = begin();
      if (reset) {
        cursor = null;
        box.replaceChildren();
      }
      try {
        const data = await adminApi("/v1/groups", {query: {q: query, limit: 25, cursor}});
        if (!current()) return;
        box.append(...data.groups.map(groupCard));
        if (reset && !data.groups.length) box.append(el("p", {class: "muted"}, "No group matches."));
        cursor = data.next_cursor;
        more.hidden = !cursor;
        announce(`${box.querySelectorAll(".group-card").length} groups shown.`);
      } catch (err) {
        if (current()) box.replaceChildren(failure(err));
      }
    }

    $("group-search").addEventListener("submit", (event) => {
      event.preventDefault();
      query = $("group-q").value.trim();
      search(true);
    });
    more.addEventListener("click", () => search(false));

    $("user-lookup").addEventListener("submit", async (event) => {
      event.preventDefault();
      const out = $("user-groups");
      const user = $("user-q").value.trim();
      if (!user) return;
      try {
        const data = await adminApi(`/v1/principals/${encodeURIComponent(user)}/entitlements`);
        const groups = data.principals.filter((p) => p.startsWith("group:"));
        out.replaceChildren(
          el("p", {}, `${data.user_id} is in ${groups.length} group${groups.length === 1 ? "" : "s"}` +
            " (nested groups included):"),
          groups.length ? el("ul", {class: "chips"}, groups.map((g) => el("li", {}, g)))
                        : el("p", {class: "muted"}, "None: only documents shared with everyone or with this user."));
      } catch (err) {
        out.replaceChildren(failure(err));
      }
    });

    $("group-new").addEventListener("submit", async (event) => {
      event.preventDefault();
      const note = $("new-status");
      const name = $("new-name").value.trim().replace(/^group:/, "");
      try {
        const saved = await adminApi(groupPath(name), {method: "PUT",
          body: {members: lines($("new-members").value)}});
        note.replaceChildren(`Saved ${saved.id}.`);
        event.target.reset();
        query = "";
        search(true);
      } catch (err) {
        note.replaceChildren(failure(err));
      }
    });

    await search(true);
  }

  // --- documents --------------------------------------------------------------------

  async function documentsPage() {
    const results = $("doc-results");
    const more = $("docs-more");
    const body = $("inspector-body");
    let cursor = null;
    let query = "";

    function chain(via, user) {
      const steps = via[0] === user ? via.slice(1) : via;  // the chain starts at the user
      return steps.join(" → ");
    }

    const beginSearch = latestOnly();
    const beginOpen = latestOnly();

    async function search(reset) {
      const current = beginSearch();
      if (reset) {
        cursor = null;
        results.replaceChildren();
      }
      try {
        const data = await adminApi("/v1/documents", {query: {q: query, limit: 20, cursor}});
        if (!current()) return;
        results.append(...data.documents.map((doc) => el("li", {},
          el("button", {type: "button", class: "pick", "data-doc": doc.doc_id,
                        onclick: () => open(doc.doc_id)},
            el("span", {class: "pick-title"}, doc.title || doc.external_id),
            el("span", {class: "pick-sub"}, `${doc.source_name} · ${doc.external_id}`)))));
        if (reset && !data.documents.length) {
          results.append(el("li", {class: "muted"}, "No document matches."));
        }
        cursor = data.next_cursor;
        more.hidden = !cursor;
      } catch (err) {
        if (current()) results.replaceChildren(el("li", {}, failure(err)));
      }
    }

    async function open(docId) {
      const current = beginOpen();
      for (const pick of results.querySelectorAll(".pick")) {
        pick.setAttribute("aria-current", String(pick.dataset.doc === docId));
      }
      $("inspector-empty").hidden = true;
      body.hidden = false;
      body.replaceChildren(el("p", {class: "muted"}, "Loading…"));
      const url = new URL(location.href);
      url.searchParams.set("doc", docId);
      history.replaceState(null, "", url);
      try {
        const [doc, access] = await Promise.all([
          adminApi(`/v1/documents/${encodeURIComponent(docId)}`),
          adminApi(`/v1/documents/${encodeURIComponent(docId)}/access`)]);
        if (current()) render(doc, access);
      } catch (err) {
        if (current()) body.replaceChildren(failure(err));
      }
    }

    function entryRows(entries) {
      return entries.map((e) => el("li", {},
        el("code", {}, e.principal), " ",
        e.status === "ok" ? pill(`${e.users} user${e.users === 1 ? "" : "s"}`, "")
                          : pill(e.status.replace("_", " "), "bad"),
        e.note ? el("span", {class: "muted small"}, ` ${e.note}`) : null));
    }

    function render(doc, access) {
      const href = safeHref(doc.url);
      const readers = access.everyone
        ? el("p", {}, "Everyone in the organisation may read it (it is shared with ",
             el("code", {}, "everyone"), ")", access.excluded_total ? ", except:" : ".")
        : el("div", {},
            el("p", {}, `${access.readers_total} user${access.readers_total === 1 ? "" : "s"} may read it:`),
            el("ul", {class: "readers"}, access.readers.map((r) => el("li", {},
              el("strong", {}, r.user_id.replace(/^user:/, "")),
              el("span", {class: "via"}, chain(r.via, r.user_id) ? `via ${chain(r.via, r.user_id)}`
                                                                  : r.reason)))));
      const excluded = access.excluded_total ? el("div", {},
        el("h4", {}, `Kept out by a deny rule (${access.excluded_total})`),
        el("ul", {class: "readers"}, access.excluded.map((r) => el("li", {},
          el("strong", {}, r.user_id.replace(/^user:/, "")),
          el("span", {class: "via"}, r.reason))))) : null;

      const canReadOut = el("div", {class: "verdict", "aria-live": "polite"});
      const canReadUser = el("input", {id: "can-read-user", type: "text", spellcheck: "false",
                                       placeholder: "name@company.com"});
      const canRead = el("form", {class: "inline-form"},
        el("label", {for: "can-read-user", class: "visually-hidden"}, "User email"), canReadUser,
        el("button", {type: "submit", class: "button"}, "Explain"));
      canRead.addEventListener("submit", async (event) => {
        event.preventDefault();
        const user = canReadUser.value.trim();
        if (!user) return;
        try {
          const verdict = await adminApi(
            `/v1/principals/${encodeURIComponent(user)}/can-read/${encodeURIComponent(doc.doc_id)}`);
          canReadOut.className = "verdict " + (verdict.allowed ? "yes" : "no");
          fill(canReadOut,
            el("strong", {}, verdict.allowed ? "Can read it. " : "Can't read it. "),
            verdict.reason,
            verdict.via.length > 1 ? el("span", {class: "via"},
              "via " + chain(verdict.via, verdict.via[0])) : null);
        } catch (err) {
          canReadOut.className = "verdict";
          canReadOut.replaceChildren(failure(err));
        }
      });

      const allow = el("textarea", {id: "acl-allow", rows: "4", spellcheck: "false"},
                       doc.acl.allow.join("\n"));
      const deny = el("textarea", {id: "acl-deny", rows: "3", spellcheck: "false"},
                      doc.acl.deny.join("\n"));
      const aclNote = el("p", {role: "status"});
      const aclForm = el("form", {class: "stack acl-form"},
        el("label", {for: "acl-allow"}, "Allowed (one principal per line)"), allow,
        el("label", {for: "acl-deny"}, "Denied (wins over allowed)"), deny,
        el("p", {class: "hint"}, "Principals: user:name@company.com, group:name, everyone. " +
          "Takes effect for the next question, without re-indexing." +
          (doc.source_name && doc.acl ? " A later sync from the source may set it again." : "")),
        el("button", {type: "submit", class: "button"}, "Save access rules"), aclNote);
      aclForm.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          await adminApi(`/v1/sources/${encodeURIComponent(doc.source_id)}/documents/` +
                         `${doc.external_id.split("/").map(encodeURIComponent).join("/")}/acl`,
            {method: "PUT", body: {allow: lines(allow.value), deny: lines(deny.value)}});
          await open(doc.doc_id);
          const saved = $("acl-note");
          if (saved) saved.textContent = "Saved. New questions use these rules.";
          announce("Access rules saved.");
        } catch (err) {
          aclNote.replaceChildren(failure(err));
        }
      });
      aclNote.id = "acl-note";

      fill(body,
        el("h3", {class: "doc-title"}, doc.title || doc.external_id),
        el("p", {class: "muted small"},
          `${doc.source_name} · ${doc.external_id} · ${doc.status} · ${doc.chunks} chunks · ` +
          `ACL version ${access.acl_version}`),
        href ? el("p", {}, el("a", {href, target: "_blank", rel: "noopener noreferrer"},
                               "Open the document")) : null,
        el("section", {"aria-labelledby": "who-title"},
          el("h3", {id: "who-title"}, "Who can read this, and why"), readers, excluded,
          el("h4", {}, "Allow entries"),
          el("ul", {class: "entries"}, entryRows(access.allow)),
          access.deny.length ? el("h4", {}, "Deny entries") : null,
          access.deny.length ? el("ul", {class: "entries"}, entryRows(access.deny)) : null,
          access.matches_nobody.length ? el("p", {class: "warn-text"},
            "These entries reach nobody: " + access.matches_nobody.join(", ")) : null),
        el("section", {"aria-labelledby": "why-title"},
          el("h3", {id: "why-title"}, "Why can't this user read it?"), canRead, canReadOut),
        el("section", {"aria-labelledby": "acl-title"},
          el("h3", {id: "acl-title"}, "Change who can read it"), aclForm));
    }

    $("doc-search").addEventListener("submit", (event) => {
      event.preventDefault();
      query = $("doc-q").value.trim();
      search(true);
    });
    more.addEventListener("click", () => search(false));
    const params = new URLSearchParams(location.search);
    if (params.get("q")) $("doc-q").value = query = params.get("q");
    await search(true);
    if (params.get("doc")) await open(params.get("doc"));
  }

  // --- keys -------------------------------------------------------------------------

  async function keysPage() {
    const box = $("keys");
    const showRevoked = $("show-revoked");

    function revokeButton(key) {
      const revoke = el("button", {type: "button", class: "button danger small",
                                   "aria-label": `Revoke ${key.name}`}, "Revoke");
      revoke.addEventListener("click", () => {
        const confirm = el("button", {type: "button", class: "button danger small"},
                           "Yes, revoke");
        const cancel = el("button", {type: "button", class: "button secondary small"}, "Cancel");
        const ask = el("span", {class: "confirm"}, confirm, cancel);
        cancel.addEventListener("click", () => { ask.replaceWith(revoke); revoke.focus(); });
        confirm.addEventListener("click", async () => {
          try {
            await adminApi(`/v1/keys/${encodeURIComponent(key.id)}`, {method: "DELETE"});
            announce(`Revoked ${key.name}.`);
            load();
          } catch (err) {
            ask.replaceWith(failure(err));
          }
        });
        revoke.replaceWith(ask);
        confirm.focus();
      });
      return revoke;
    }

    async function load() {
      try {
        const keys = await adminApi("/v1/keys", {query: {include_revoked: showRevoked.checked}});
        box.replaceChildren(keys.length ? table([
          {label: "Key", value: (k) => [el("span", {class: "key-name"}, k.name),
                                        el("code", {class: "muted small"}, `${k.prefix}…`)]},
          {label: "Scopes", value: (k) => k.scopes.join(", ")},
          {label: "User", value: (k) => (k.user_id || "—").replace(/^user:/, "")},
          {label: "Created", nowrap: true, value: (k) => formatDay(k.created_at)},
          {label: "Expires", nowrap: true,
           value: (k) => (k.expires_at ? formatDay(k.expires_at) : "never")},
          {label: "Status", value: (k) => (k.revoked_at
            ? pill("revoked", "bad") : revokeButton(k))},
        ], keys, {caption: "API keys"}) : el("p", {class: "muted"}, "No keys."));
      } catch (err) {
        box.replaceChildren(failure(err));
      }
    }

    $("key-create").addEventListener("submit", async (event) => {
      event.preventDefault();
      const formEl = event.target;
      const error = $("create-error");
      error.textContent = "";
      const scopes = [...formEl.querySelectorAll("input[name=scope]:checked")].map((i) => i.value);
      const expires = $("key-expires").value;
      const body = {name: $("key-name").value.trim(), scopes,
        user_id: $("key-user").value.trim() || null,
        source_ids: lines($("key-sources").value),
        expires_at: expires ? new Date(expires + "T23:59:59").toISOString() : null};
      try {
        const created = await adminApi("/v1/keys", {method: "POST", body});
        const shown = $("new-key");
        const copy = el("button", {type: "button", class: "button secondary small"}, "Copy");
        const code = el("code", {class: "secret", id: "new-key-value"}, created.key);
        copy.addEventListener("click", async () => {
          try {
            await navigator.clipboard.writeText(created.key);
            copy.textContent = "Copied";
          } catch {
            getSelection().selectAllChildren(code);
          }
        });
        shown.replaceChildren(
          el("h3", {}, `Key "${created.name}" created`),
          el("p", {}, el("strong", {}, "Copy it now: it won't be shown again.")),
          el("div", {class: "secret-row"}, code, copy));
        shown.hidden = false;
        shown.focus();
        formEl.reset();
        load();
      } catch (err) {
        error.textContent = describeError(err);
      }
    });
    showRevoked.addEventListener("change", load);
    await load();
  }

  // --- audit ------------------------------------------------------------------------

  async function auditPage() {
    const box = $("audit");
    const more = $("audit-more");
    const formEl = $("audit-filters");
    let cursor = null;

    function filters() {
      const value = (id) => $(id).value.trim();
      const day = (text, plusDays = 0) => {
        if (!text) return null;
        const when = new Date(text + "T00:00:00");
        when.setDate(when.getDate() + plusDays);
        return when.toISOString();
      };
      return {user: value("f-user"), since: day(value("f-since")),
              until: day(value("f-until"), 1), kind: value("f-kind"),
              abstained: value("f-abstained"), model: value("f-model")};
    }

    const columns = [
      {label: "When", value: (r) => formatTime(r.at)},
      {label: "Kind", nowrap: true, value: (r) => r.kind},
      {label: "User", value: (r) => (r.user_id || "—").replace(/^user:/, "")},
      {label: "Question or target", value: (r) => el("span", {class: "clip"},
        r.query || shortId(r.target, 20))},
      {label: "Model", nowrap: true, value: (r) => r.model || "—"},
      {label: "Outcome", value: (r) => (r.abstained === true ? pill("abstained", "")
        : r.abstained === false ? pill("answered", "good") : String(r.status_code || "—"))},
      {label: "ms", value: (r) => (r.latency_ms === null || r.latency_ms === undefined
        ? "—" : String(r.latency_ms))},
      {label: "Caller", nowrap: true, value: (r) => shortId(r.caller)},
    ];

    const begin = latestOnly();

    async function load(reset) {
      const current = begin();
      if (reset) cursor = null;
      try {
        const data = await adminApi("/v1/audit", {query: {...filters(), limit: 25, cursor}});
        if (!current()) return;
        if (reset) {
          box.replaceChildren(data.records.length
            ? table(columns, data.records, {caption: "Audit records"})
            : el("p", {class: "muted"}, "No entries match these filters."));
        } else {
          const tbody = box.querySelector("tbody");
          const extra = table(columns, data.records).querySelector("tbody");
          tbody.append(...extra.children);
        }
        cursor = data.next_cursor;
        more.hidden = !cursor;
        announce(`${box.querySelectorAll("tbody tr").length} entries shown.`);
      } catch (err) {
        if (current()) box.replaceChildren(failure(err));
      }
    }

    formEl.addEventListener("submit", (event) => { event.preventDefault(); load(true); });
    formEl.addEventListener("reset", () => setTimeout(() => load(true), 0));
    more.addEventListener("click", () => load(false));
    await load(true);
  }

  // --- start ------------------------------------------------------------------------

  const {me} = await window.Clearance.ready;
  if (!me || !me.is_admin) {
    denied(me);
    return;
  }
  $("admin-area").hidden = false;
  const pages = {"admin-sources": sourcesPage, "admin-groups": groupsPage,
                 "admin-documents": documentsPage, "admin-keys": keysPage,
                 "admin-audit": auditPage};
  const page = pages[document.body.dataset.page];
  if (page) await page();
})();
