/* Clearance web UI: the signed-in session, API calls and the page header.
 *
 * How to sign in comes from GET /v1/auth/config:
 *   oidc — authorization code + PKCE with the ES module /static/oidc.js; the issuer
 *          redirects back to /sign-in, and the user's own access token is sent on every
 *          call (the API gives it admin rights when the user is in the admin group);
 *   demo — a picker of demo users; each gets only its own query key, and a demo admin
 *          its own admin key, used for the admin routes only (POST /demo/sign-in);
 *   keys — the user pastes an API key.
 * The session lives in sessionStorage (this tab only). Every permission is the API's.
 */
"use strict";

window.Clearance = (() => {
  const STORE = "clearance.session";
  let authConfig = {mode: "keys"};
  let oidc = null;  // the /static/oidc.js module, in oidc mode

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message);
      this.status = status;
      this.code = code;
    }
  }

  /* el("p", {class: "x", onclick: fn}, "text", child) — text is always text, never HTML. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on") && typeof value === "function") {
        node.addEventListener(key.slice(2), value);
      } else if (value === true) {
        node.setAttribute(key, "");
      } else {
        node.setAttribute(key, String(value));
      }
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  /* node.replaceChildren(...) that skips null and false (optional parts). */
  function fill(node, ...children) {
    node.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
    return node;
  }

  function session() {
    try {
      return JSON.parse(sessionStorage.getItem(STORE) || "null");
    } catch {
      return null;
    }
  }

  function saveSession(value) {
    sessionStorage.setItem(STORE, JSON.stringify(value));
  }

  async function credential({admin = false} = {}) {
    const current = session();
    if (!current) return null;
    if (current.kind === "oidc") return oidc ? oidc.accessToken() : null;
    return (admin && current.adminToken) || current.token;
  }

  function signOut() {
    const current = session();
    sessionStorage.removeItem(STORE);
    if (current && current.kind === "oidc" && oidc &&
        oidc.signOut(authConfig, {postLogoutRedirectUri: location.origin + "/sign-in"})) {
      return;  // on the way to the issuer's logout
    }
    location.assign("/sign-in");
  }

  /* Start the OpenID Connect sign-in; the issuer sends the browser back to /sign-in. */
  function signInWithOidc(next) {
    return oidc.signIn(authConfig, {redirectUri: location.origin + "/sign-in", returnTo: next});
  }

  function toSignIn() {
    const next = location.pathname + location.search;
    location.replace("/sign-in?next=" + encodeURIComponent(next));
  }

  /* fetch() against the API with the signed-in user's credential. JSON in, JSON out;
     a non-2xx answer throws ApiError with the API's stable code. `raw` returns the
     Response itself (for the answer stream). */
  async function api(path, {method = "GET", body, admin = false, signal, raw = false,
                            query} = {}) {
    const token = await credential({admin});
    const headers = {"Accept": raw ? "text/event-stream" : "application/json"};
    if (token) headers["Authorization"] = "Bearer " + token;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    let url = path;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== null && v !== undefined && v !== "") params.set(k, v);
      }
      if ([...params].length) url += "?" + params;
    }
    const response = await fetch(url, {method, headers, signal,
      body: body === undefined ? undefined : JSON.stringify(body)});
    if (response.status === 401 && session()) {
      sessionStorage.removeItem(STORE);
      toSignIn();
      throw new ApiError(401, "unauthorized", "Your sign-in has expired.");
    }
    if (raw && response.ok) return response;
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      const error = (data && data.error) || {};
      throw new ApiError(response.status, error.code || "http_" + response.status,
        error.message || `The server answered ${response.status}.`);
    }
    return data;
  }

  function describeError(err) {
    if (err && err.name === "AbortError") return "Stopped.";
    if (err instanceof ApiError) {
      if (err.status === 403) return "You're not allowed to do that. " + err.message;
      return err.message;
    }
    return "The server could not be reached. Check your connection and try again.";
  }

  function renderWho(current, me) {
    const who = document.getElementById("who");
    if (!who) return;
    const name = (me && (me.name || (me.user_id || "").replace(/^user:/, ""))) ||
      (current.user && current.user.name) || "API key";
    fill(who,
      current.kind === "demo" ? el("span", {class: "tag demo", title: "Demo sign-in"}, "Demo") : null,
      el("span", {class: "who-name"}, name),
      me && me.is_admin ? el("span", {class: "tag admin"}, "Admin") : null,
      el("button", {type: "button", class: "link-button", onclick: signOut}, "Sign out"),
    );
  }

  async function loadAuth() {
    try {
      const response = await fetch("/v1/auth/config", {headers: {"Accept": "application/json"}});
      if (response.ok) authConfig = await response.json();
    } catch {
      authConfig = {mode: "keys"};
    }
    if (authConfig.mode !== "oidc") return null;
    oidc = await import("/static/oidc.js");
    try {
      const done = await oidc.completeSignIn(authConfig);  // back from the issuer?
      if (done) {
        saveSession({kind: "oidc"});
        location.replace(done.returnTo);
        return new Promise(() => {});
      }
    } catch (err) {
      return err.message;  // shown on the sign-in page
    }
    const current = session();
    if (oidc.accessToken()) {
      if (!current) saveSession({kind: "oidc"});
    } else if (current && current.kind === "oidc") {
      sessionStorage.removeItem(STORE);  // the token expired
    }
    return null;
  }

  /* Every page awaits this: the session and the caller's identity (GET /v1/me), or a
     redirect to the sign-in page. */
  async function boot() {
    const signInError = await loadAuth();
    const current = session();
    if (document.body.dataset.page === "sign-in") {
      return {session: current, me: null, auth: authConfig, signInError};
    }
    if (!current) {
      toSignIn();
      return new Promise(() => {});
    }
    let me = null;
    try {
      me = await api("/v1/me");
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) return new Promise(() => {});
      me = null;
    }
    renderWho(current, me);
    const adminLink = document.getElementById("admin-link");
    if (adminLink && me && me.is_admin) adminLink.hidden = false;
    return {session: current, me, auth: authConfig};
  }

  function formatTime(value) {
    if (!value) return "";
    const when = new Date(value);
    if (Number.isNaN(when.getTime())) return String(value);
    return when.toLocaleString(undefined, {dateStyle: "medium", timeStyle: "short"});
  }

  function safeHref(url) {
    return typeof url === "string" && /^https?:\/\//i.test(url) ? url : null;
  }

  return {
    ApiError, el, fill, api, session, saveSession, signOut, signInWithOidc, describeError,
    formatTime, safeHref, ready: boot(),
  };
})();
