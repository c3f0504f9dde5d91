// Clearance sign-in, browser side: OpenID Connect authorization code + PKCE (RFC 7636, S256).
// An ES module with no dependencies, served at /static/oidc.js. The page uses it so:
//
//   import * as oidc from "/static/oidc.js";
//   const config = await oidc.loadAuthConfig();          // GET /v1/auth/config
//   if (config.mode === "oidc") {
//     await oidc.completeSignIn(config);                  // on the redirect back: ?code&state
//     if (!oidc.accessToken()) { showSignInButton(() => oidc.signIn(config)); return; }
//   }
//   const response = await oidc.apiFetch("/v1/search", {method: "POST", body: ...});
//
// The access token lives in sessionStorage (this tab only, gone when it closes) and is
// sent only to this page's own origin (apiFetch refuses absolute URLs). There is no
// refresh: when the token expires, accessToken() returns null and apiFetch rejects with
// an error whose .code is "signed_out", and the page calls signIn(config) again.

const TOKEN_KEY = "clearance.oidc.token";
const PENDING_PREFIX = "clearance.oidc.pending.";
const PENDING_MAX_AGE_MS = 10 * 60 * 1000;
const EXPIRY_MARGIN_MS = 30 * 1000;

export class SignInError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "SignInError";
    this.code = code;
  }
}

/** GET /v1/auth/config: {mode: "oidc"|"demo"|"keys", issuer, client_id, scopes, ...}. */
export async function loadAuthConfig(apiBase = "") {
  const response = await fetch(`${apiBase}/v1/auth/config`, {headers: {Accept: "application/json"}});
  if (!response.ok) {
    throw new SignInError("config_unavailable", "Sign-in is unavailable right now.");
  }
  return response.json();
}

function base64url(bytes) {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(byteCount = 32) {
  const bytes = new Uint8Array(byteCount);
  crypto.getRandomValues(bytes);
  return base64url(bytes);
}

/** The S256 code challenge of a code verifier: base64url(SHA-256(verifier)). */
export async function codeChallenge(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function defaultRedirectUri() {
  return window.location.origin + window.location.pathname;
}

function requireOidc(config) {
  if (!config || config.mode !== "oidc" || !config.authorization_endpoint ||
      !config.token_endpoint || !config.client_id) {
    throw new SignInError("not_configured",
      "Single sign-on is not configured (CLEARANCE_OIDC_ISSUER, CLEARANCE_OIDC_CLIENT_ID).");
  }
}

/**
 * Start signing in: remembers a fresh PKCE verifier and state in sessionStorage, then
 * sends the browser to the issuer. `redirectUri` must be registered at the issuer for
 * the client id (default: this page's URL without query). `returnTo` is where
 * completeSignIn() says to go afterwards (same origin; default: the current URL).
 * `extraParams` go into the authorization request (e.g. {audience: config.audience} for
 * issuers that want it, or {prompt: "login"}).
 */
export async function signIn(config, {redirectUri = defaultRedirectUri(), returnTo,
                                      extraParams = {}, navigate = (url) => window.location.assign(url)} = {}) {
  requireOidc(config);
  const verifier = randomString(32); // 43 characters, within RFC 7636's 43..128
  const state = randomString(16);
  const pending = {verifier, redirectUri, createdAt: Date.now(),
                   returnTo: returnTo || window.location.pathname + window.location.search + window.location.hash};
  sessionStorage.setItem(PENDING_PREFIX + state, JSON.stringify(pending));
  const url = new URL(config.authorization_endpoint);
  const params = {
    ...extraParams,
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectUri,
    scope: (config.scopes && config.scopes.length ? config.scopes : ["openid"]).join(" "),
    state,
    code_challenge: await codeChallenge(verifier),
    code_challenge_method: "S256",
  };
  for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
  navigate(url.toString());
  return url.toString();
}

function takePending(state) {
  const key = PENDING_PREFIX + state;
  const raw = sessionStorage.getItem(key);
  sessionStorage.removeItem(key); // single use, whatever happens next
  for (let i = sessionStorage.length - 1; i >= 0; i--) { // drop abandoned attempts
    const other = sessionStorage.key(i);
    if (other && other.startsWith(PENDING_PREFIX)) {
      try {
        const item = JSON.parse(sessionStorage.getItem(other));
        if (!item || Date.now() - item.createdAt > PENDING_MAX_AGE_MS) sessionStorage.removeItem(other);
      } catch { sessionStorage.removeItem(other); }
    }
  }
  if (!raw) return null;
  const pending = JSON.parse(raw);
  if (!pending || Date.now() - pending.createdAt > PENDING_MAX_AGE_MS) return null;
  return pending;
}

/**
 * Finish signing in on the page the issuer redirected back to. Without ?code or ?error
 * in `url` it does nothing and resolves to null. Otherwise it checks `state` against the
 * one signIn() stored (a mismatch, a replay or a stale attempt is refused), exchanges the
 * code and the PKCE verifier at the token endpoint, stores the access token, removes the
 * code from the address bar, and resolves to {returnTo}.
 */
export async function completeSignIn(config, {url = window.location.href,
                                             replaceUrl = (clean) => window.history.replaceState(null, "", clean)} = {}) {
  const here = new URL(url);
  const code = here.searchParams.get("code");
  const state = here.searchParams.get("state");
  const error = here.searchParams.get("error");
  const issuer = here.searchParams.get("iss");
  if (!code && !error) return null;
  for (const name of ["code", "state", "error", "error_description", "error_uri", "session_state", "iss"]) {
    here.searchParams.delete(name);
  }
  replaceUrl(here.pathname + here.search + here.hash); // the code never stays in history
  const pending = state ? takePending(state) : null;
  if (!pending) {
    throw new SignInError("state_mismatch", "This sign-in response was not started here or has expired; sign in again.");
  }
  if (error) {
    throw new SignInError("provider_error", "The identity provider refused the sign-in (" + error + ").");
  }
  requireOidc(config);
  if (issuer && config.issuer && issuer !== config.issuer) { // RFC 9207 mix-up defence
    throw new SignInError("issuer_mismatch", "The sign-in response came from another identity provider.");
  }
  const body = new URLSearchParams({
    grant_type: "authorization_code",
    code,
    redirect_uri: pending.redirectUri,
    client_id: config.client_id,
    code_verifier: pending.verifier,
  });
  const response = await fetch(config.token_endpoint, {
    method: "POST",
    headers: {"Content-Type": "application/x-www-form-urlencoded", Accept: "application/json"},
    body,
  });
  let tokens = null;
  try { tokens = await response.json(); } catch { tokens = null; }
  if (!response.ok || !tokens || typeof tokens.access_token !== "string") {
    throw new SignInError("token_exchange_failed", "Signing in failed at the identity provider; try again.");
  }
  if (tokens.token_type && tokens.token_type.toLowerCase() !== "bearer") {
    throw new SignInError("token_exchange_failed", "The identity provider returned an unusable token.");
  }
  const lifetimeS = Number(tokens.expires_in) > 0 ? Number(tokens.expires_in) : 300;
  storeToken({accessToken: tokens.access_token, expiresAt: Date.now() + lifetimeS * 1000,
              idToken: typeof tokens.id_token === "string" ? tokens.id_token : null});
  const returnTo = typeof pending.returnTo === "string" && pending.returnTo.startsWith("/") &&
    !pending.returnTo.startsWith("//") ? pending.returnTo : "/";
  return {returnTo};
}

function storeToken(token) {
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify(token));
}

function storedToken() {
  try { return JSON.parse(sessionStorage.getItem(TOKEN_KEY)); } catch { return null; }
}

/** The signed-in user's access token, or null when signed out or (nearly) expired. */
export function accessToken() {
  const token = storedToken();
  if (!token || typeof token.accessToken !== "string") return null;
  if (Date.now() >= token.expiresAt - EXPIRY_MARGIN_MS) {
    sessionStorage.removeItem(TOKEN_KEY);
    return null;
  }
  return token.accessToken;
}

/** {Authorization: "Bearer …"} for the signed-in user, or {} when signed out. */
export function authHeaders() {
  const token = accessToken();
  return token ? {Authorization: `Bearer ${token}`} : {};
}

/**
 * fetch() on this page's own API with the signed-in user's token. Relative paths only,
 * so the token never goes to another origin. Rejects with SignInError("signed_out") when
 * there is no valid token; a 401 from the API drops the stored token (it was refused)
 * and resolves to that response, so the page can show why and offer to sign in again.
 */
export async function apiFetch(path, init = {}) {
  if (typeof path !== "string" || !path.startsWith("/") || path.startsWith("//")) {
    throw new SignInError("bad_path", "apiFetch takes a path on this site, like /v1/search.");
  }
  const token = accessToken();
  if (!token) throw new SignInError("signed_out", "Sign in to continue.");
  const headers = new Headers(init.headers || {});
  headers.set("Authorization", `Bearer ${token}`);
  if (init.body && typeof init.body === "string" && !headers.has("Content-Type")) {
    headers.set("Content-Type", "application/json");
  }
  const response = await fetch(path, {...init, headers, credentials: "same-origin"});
  if (response.status === 401) sessionStorage.removeItem(TOKEN_KEY);
  return response;
}

/**
 * Forget the token. With `config.end_session_endpoint`, also end the session at the
 * issuer (RP-initiated logout), coming back to `postLogoutRedirectUri` when given.
 */
export function signOut(config, {postLogoutRedirectUri, navigate = (url) => window.location.assign(url)} = {}) {
  const token = storedToken();
  sessionStorage.removeItem(TOKEN_KEY);
  if (!config || !config.end_session_endpoint) return null;
  const url = new URL(config.end_session_endpoint);
  if (config.client_id) url.searchParams.set("client_id", config.client_id);
  if (token && token.idToken) url.searchParams.set("id_token_hint", token.idToken);
  if (postLogoutRedirectUri) url.searchParams.set("post_logout_redirect_uri", postLogoutRedirectUri);
  navigate(url.toString());
  return url.toString();
}
