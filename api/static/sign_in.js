/* Sign-in, as GET /v1/auth/config says: single sign-on (oidc), the demo picker (demo),
   or an API key (keys, and always available as a fallback). */
"use strict";

(async () => {
  const {el, saveSession, signInWithOidc} = window.Clearance;
  const {auth, signInError} = await window.Clearance.ready;

  function nextPath() {
    const next = new URLSearchParams(location.search).get("next") || "/";
    return next.startsWith("/") && !next.startsWith("//") && !next.startsWith("/\\") ? next : "/";
  }

  const providers = document.getElementById("providers");
  if (signInError) {
    providers.append(el("p", {class: "card error-card", role: "alert"}, signInError));
  }
  if (auth.mode === "oidc") {
    const button = el("button", {type: "button", class: "button wide"},
                      "Sign in with your company account");
    button.addEventListener("click", () => {
      button.disabled = true;
      signInWithOidc(nextPath()).catch((err) => {
        button.disabled = false;
        providers.append(el("p", {class: "error-text", role: "alert"}, err.message));
      });
    });
    providers.append(button);
  }

  async function signInAs(user, button) {
    button.disabled = true;
    try {
      const response = await fetch("/demo/sign-in", {method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({user_id: user.id})});
      if (!response.ok) throw new Error("sign-in refused");
      const data = await response.json();
      saveSession({kind: "demo", user: data.user, token: data.key,
                   adminToken: data.admin_key || null});
      location.assign(nextPath());
    } catch {
      button.disabled = false;
      button.append(el("span", {class: "error-text"}, " Could not sign in; try again."));
    }
  }

  if (auth.mode === "demo") {
    try {
      const data = await (await fetch("/demo/users")).json();
      const list = document.getElementById("demo-users");
      for (const user of data.users) {
        const button = el("button", {type: "button", class: "user-pick"},
          el("span", {class: "user-name"}, user.name || user.id.replace(/^user:/, ""),
            user.admin ? el("span", {class: "tag admin"}, "Admin") : null),
          el("span", {class: "user-title"}, user.title || ""),
          el("span", {class: "user-id"}, user.id.replace(/^user:/, "")));
        button.addEventListener("click", () => signInAs(user, button));
        list.append(el("li", {}, button));
      }
      document.getElementById("demo").hidden = !data.users.length;
    } catch {
      document.getElementById("demo").hidden = true;
    }
  }
  if (auth.mode === "keys") document.getElementById("use-key").open = true;

  document.getElementById("key-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const key = document.getElementById("api-key").value.trim();
    const error = document.getElementById("key-error");
    error.textContent = "";
    if (!key) {
      error.textContent = "Paste your key first.";
      return;
    }
    const response = await fetch("/v1/me", {headers: {"Authorization": "Bearer " + key}});
    if (!response.ok) {
      error.textContent = "That key is unknown, revoked or expired.";
      return;
    }
    const me = await response.json();
    saveSession({kind: "key", token: key,
                 adminToken: me.scopes.includes("admin") ? key : null});
    location.assign(nextPath());
  });
})();
