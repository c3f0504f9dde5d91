/* The ask page: stream an answer from POST /v1/answer (fetch reads the SSE body:
   EventSource cannot POST), cite, abstain plainly, take feedback, list recent questions. */
"use strict";

(async () => {
  const {el, fill, api, ApiError, describeError, formatTime, safeHref} = window.Clearance;
  const $ = (id) => document.getElementById(id);
  const form = $("ask-form");
  const question = $("question");
  const result = $("result");
  const status = $("status");
  const go = $("go");
  const stop = $("stop");
  let controller = null;

  const ABSTAIN_WHY = {
    no_relevant_documents: "Nothing you can read matched this question closely enough.",
    unverified_citations: "The answer couldn't be backed, quote by quote, by documents you can read.",
  };
  const SVG_NS = "http://www.w3.org/2000/svg";

  function icon(pathData, extraClass = "") {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "icon " + extraClass);
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", pathData);
    svg.append(path);
    return svg;
  }
  const THUMB_UP = "M2 21h4V9H2v12zm20-11a2 2 0 0 0-2-2h-6.3l1-4.6v-.3c0-.4-.2-.8-.4-1.1L13.2 1 6.6 7.6C6.2 8 6 8.5 6 9v10a2 2 0 0 0 2 2h9c.8 0 1.5-.5 1.8-1.2l3-7.1c.1-.2.2-.5.2-.7v-2z";
  const THUMB_DOWN = "M22 3h-4v12h4V3zM2 14a2 2 0 0 0 2 2h6.3l-1 4.6v.3c0 .4.2.8.4 1.1l1.1 1 6.6-6.6c.4-.4.6-.9.6-1.4V5a2 2 0 0 0-2-2H7c-.8 0-1.5.5-1.8 1.2l-3 7.1c-.1.2-.2.5-.2.7v2z";
  const INFO = "M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm1 15h-2v-6h2v6zm0-8h-2V7h2v2z";

  // --- the SSE stream ---------------------------------------------------------------

  async function* serverEvents(response) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, {stream: true});
      let match;
      while ((match = /\r?\n\r?\n/.exec(buffer))) {
        const block = buffer.slice(0, match.index);
        buffer = buffer.slice(match.index + match[0].length);
        const event = parseEvent(block);
        if (event) yield event;
      }
    }
    const last = parseEvent(buffer);
    if (last) yield last;
  }

  function parseEvent(block) {
    let name = "message";
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) name = line.slice(6).trim();
      else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
    }
    if (!data.length) return null;
    return {name, data: JSON.parse(data.join("\n"))};
  }

  // --- asking -----------------------------------------------------------------------

  function setBusy(busy) {
    go.disabled = busy;
    stop.hidden = !busy;
    form.setAttribute("aria-busy", String(busy));
  }

  async function ask(text) {
    const query = text.trim();
    if (!query) {
      question.focus();
      return;
    }
    if (controller) controller.abort();
    const mine = new AbortController();
    controller = mine;
    setBusy(true);
    status.textContent = "Searching what you can read…";
    const live = el("p", {class: "answer-text streaming"});
    const card = el("article", {class: "card answer-card", "aria-busy": "true",
                                "aria-labelledby": "answer-label"},
      el("h2", {id: "answer-label", class: "card-label"}, "Answer"),
      el("p", {class: "working muted"}, "Searching what you can read…"),
      live);
    result.replaceChildren(card);
    let streamed = "";
    let final = null;
    try {
      const response = await api("/v1/answer", {method: "POST", raw: true,
        signal: mine.signal, body: {query, stream: true}});
      for await (const event of serverEvents(response)) {
        if (event.name === "token") {
          if (!streamed) card.querySelector(".working").textContent = "Writing…";
          streamed += event.data.text || "";
          live.textContent = streamed;
        } else if (event.name === "final") {
          final = event.data;
        } else if (event.name === "error") {
          const error = event.data.error || {};
          throw new ApiError(500, error.code || "stream_error",
            error.message || "The answer failed.");
        }
      }
      if (!final) throw new ApiError(500, "stream_incomplete", "The answer stream ended early.");
      result.replaceChildren(final.abstained ? abstention(final) : answer(final));
      status.textContent = final.abstained
        ? "No answer: nothing you can read matched."
        : `Answer ready, citing ${final.citations.length} source${final.citations.length === 1 ? "" : "s"}.`;
    } catch (err) {
      if (controller !== mine && err.name === "AbortError") return;  // replaced by a newer question
      if (err.name === "AbortError") {
        result.replaceChildren(stopped(streamed));
        status.textContent = "Stopped.";
      } else {
        result.replaceChildren(el("div", {class: "card error-card", role: "alert"},
          el("h2", {class: "card-label"}, "Something went wrong"),
          el("p", {}, describeError(err))));
        status.textContent = "The question failed.";
      }
    } finally {
      if (controller === mine) {
        controller = null;
        setBusy(false);
        loadRecent();
      }
    }
  }

  function stopped(streamed) {
    return el("article", {class: "card answer-card stopped"},
      el("h2", {class: "card-label"}, "Stopped"),
      streamed ? el("p", {class: "answer-text"}, streamed) : null,
      el("p", {class: "muted"}, streamed
        ? "You stopped this answer before it was finished and checked, so it has no citations."
        : "You stopped the question before an answer came."));
  }

  // --- an answer with citations -----------------------------------------------------

  function answer(data) {
    const byN = new Map(data.citations.map((c) => [c.n, c]));
    const panel = el("div", {id: "quote-panel", class: "quote-panel", hidden: true,
                             role: "region", "aria-label": "Cited quote", tabindex: "-1"});
    const text = el("p", {class: "answer-text"});
    const markers = [];
    for (const part of data.answer.split(/(\[\d+\])/)) {
      const match = /^\[(\d+)\]$/.exec(part);
      const citation = match && byN.get(Number(match[1]));
      if (citation) {
        const marker = el("button", {type: "button", class: "cite", "aria-expanded": "false",
          "aria-controls": "quote-panel", "data-n": citation.n,
          "aria-label": `Source ${citation.n}: ${citation.title || "untitled"}`},
          String(citation.n));
        marker.addEventListener("click", () => toggleQuote(panel, markers, marker, citation));
        markers.push(marker);
        text.append(marker);
      } else if (part) {
        text.append(part);
      }
    }
    const sources = el("ol", {class: "sources"}, data.citations.map((c) => {
      const href = safeHref(c.url);
      const title = c.title || "Untitled document";
      return el("li", {},
        el("span", {class: "cite-n", "aria-hidden": "true"}, String(c.n)),
        el("span", {class: "source-body"},
          href ? el("a", {href, target: "_blank", rel: "noopener noreferrer"}, title)
               : el("span", {class: "source-title"}, title),
          c.source ? el("span", {class: "source-name"}, c.source) : null));
    }));
    return el("article", {class: "card answer-card", "aria-labelledby": "answer-label"},
      el("h2", {id: "answer-label", class: "card-label"}, "Answer"),
      text, panel,
      el("h3", {class: "sources-label"}, "Sources"),
      sources,
      el("p", {class: "meta"}, meta(data)),
      feedback(data.request_id));
  }

  function meta(data) {
    const parts = [`${data.model}`, `${data.latency_ms} ms`];
    if (data.fallback_from) parts.push(`fallback from ${data.fallback_from}`);
    return parts.join(" · ");
  }

  function toggleQuote(panel, markers, marker, citation) {
    const open = !panel.hidden && panel.dataset.n === String(citation.n) &&
      marker.getAttribute("aria-expanded") === "true";
    for (const other of markers) other.setAttribute("aria-expanded", "false");
    if (open) {
      panel.hidden = true;
      return;
    }
    const href = safeHref(citation.url);
    const close = el("button", {type: "button", class: "icon-button",
                                "aria-label": "Close the quote"}, "×");
    close.addEventListener("click", () => {
      panel.hidden = true;
      marker.setAttribute("aria-expanded", "false");
      marker.focus();
    });
    panel.dataset.n = String(citation.n);
    fill(panel,
      el("div", {class: "quote-head"},
        el("span", {class: "cite-n", "aria-hidden": "true"}, String(citation.n)),
        el("div", {class: "quote-doc"},
          el("strong", {class: "quote-title"}, citation.title || "Untitled document"),
          el("span", {class: "quote-source"}, citation.source ? `from ${citation.source}` : "")),
        close),
      el("blockquote", {class: "quote"}, citation.quote),
      href ? el("a", {class: "quote-link", href, target: "_blank", rel: "noopener noreferrer"},
                "Open the document")
           : (citation.url ? el("p", {class: "quote-location muted"}, citation.url) : null));
    panel.hidden = false;
    marker.setAttribute("aria-expanded", "true");
  }

  // --- an abstention ----------------------------------------------------------------

  function abstention(data) {
    const why = ABSTAIN_WHY[data.reason] || ABSTAIN_WHY.no_relevant_documents;
    return el("article", {class: "card abstain-card", "aria-labelledby": "abstain-title"},
      el("div", {class: "abstain-head"}, icon(INFO, "abstain-icon"),
        el("h2", {id: "abstain-title"}, "No answer from what you can read")),
      el("p", {class: "abstain-why"}, why, " Clearance only answers from documents you're allowed to read, so it won't guess."),
      el("ul", {class: "tips"},
        el("li", {}, "Try other words, or a more specific question."),
        el("li", {}, "If you think you should have access to something, ask its owner.")),
      feedback(data.request_id));
  }

  // --- feedback ---------------------------------------------------------------------

  function feedback(requestId) {
    if (!requestId) return null;
    let rating = 0;
    const note = el("p", {class: "feedback-note", role: "status"});
    const comment = el("textarea", {id: "feedback-comment", rows: "2", maxlength: "4000"});
    const send = el("button", {type: "submit", class: "button secondary small"}, "Send comment");
    const more = el("form", {class: "feedback-comment", hidden: true},
      el("label", {for: "feedback-comment"}, "Anything to add? (optional)"), comment, send);
    const up = el("button", {type: "button", class: "thumb", "aria-pressed": "false",
                             "data-rating": "1"}, icon(THUMB_UP), el("span", {}, "Helpful"));
    const down = el("button", {type: "button", class: "thumb", "aria-pressed": "false",
                               "data-rating": "-1"}, icon(THUMB_DOWN), el("span", {}, "Not helpful"));

    async function post(text) {
      try {
        await api("/v1/feedback", {method: "POST",
          body: {request_id: requestId, rating, comment: text || null}});
        note.textContent = text ? "Thanks: your comment was sent." : "Thanks for the feedback.";
      } catch (err) {
        note.textContent = describeError(err);
      }
    }
    for (const button of [up, down]) {
      button.addEventListener("click", () => {
        rating = Number(button.dataset.rating);
        up.setAttribute("aria-pressed", String(rating === 1));
        down.setAttribute("aria-pressed", String(rating === -1));
        more.hidden = false;
        post(comment.value.trim());
      });
    }
    more.addEventListener("submit", (event) => {
      event.preventDefault();
      post(comment.value.trim());
    });
    return el("div", {class: "feedback"},
      el("div", {class: "feedback-row", role: "group", "aria-label": "Was this helpful?"},
        el("span", {class: "muted"}, "Was this helpful?"), up, down),
      more, note);
  }

  // --- recent questions -------------------------------------------------------------

  async function loadRecent() {
    const list = $("recent");
    try {
      const data = await api("/v1/me/history", {query: {limit: 30}});
      const seen = new Set();
      const items = [];
      for (const item of data.items) {
        if (item.kind !== "answer" || !item.query || seen.has(item.query)) continue;
        seen.add(item.query);
        items.push(item);
        if (items.length >= 8) break;
      }
      list.replaceChildren(...items.map((item) => el("li", {},
        el("button", {type: "button", class: "recent-item", title: formatTime(item.at),
                      onclick: () => { question.value = item.query; ask(item.query); }},
          el("span", {class: "recent-q"}, item.query),
          item.abstained ? el("span", {class: "tag quiet"}, "no answer") : null))));
      $("recent-empty").hidden = items.length > 0;
    } catch {
      $("recent-empty").hidden = false;
    }
  }

  // --- keyboard ---------------------------------------------------------------------

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    ask(question.value);
  });
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  stop.addEventListener("click", () => controller && controller.abort());
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      if (controller) {
        event.preventDefault();
        controller.abort();
        question.focus();
        return;
      }
      const panel = $("quote-panel");
      if (panel && !panel.hidden) {
        panel.hidden = true;
        const open = document.querySelector(".cite[aria-expanded='true']");
        if (open) {
          open.setAttribute("aria-expanded", "false");
          open.focus();
        }
      }
    } else if (event.key === "/" && !["TEXTAREA", "INPUT", "SELECT"].includes(
        document.activeElement && document.activeElement.tagName)) {
      event.preventDefault();
      question.focus();
    }
  });

  await window.Clearance.ready;
  question.focus();
  loadRecent();
})();
