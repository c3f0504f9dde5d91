"""A user's own access token (OIDC): checked against the issuer's JWKS, refused with a
stable code for every way it can be wrong, and acting as that user only, in their tenant,
with admin rights only through CLEARANCE_ADMIN_GROUP in SQL.

The issuer is faked with ``httpx.MockTransport`` and keys generated here; no network.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from pydantic import ValidationError

from api.oidc import OidcVerifier
from core import Settings
from tests.api.conftest import Api

ISSUER = "https://idp.example.test/realms/acme"
AUDIENCE = "clearance-api"
CLIENT_ID = "clearance-web"
ANN, BOB = "ann@x.com", "bob@x.com"
SECRET = ("Project QX7731Z merger memo. The acquisition price for Halvorsen Robotics is "
          "forty-two million euros.")
PUBLIC = "Cafeteria menu. Lunch is served from noon until two in the afternoon."

_RSA = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_RSA_ROTATED = rsa.generate_private_key(public_exponent=65537, key_size=2048)
_EC = ec.generate_private_key(ec.SECP256R1())


class FakeIssuer:
    """Discovery document and JWKS over an httpx transport; mints tokens."""

    def __init__(self) -> None:
        self.published: dict[str, Any] = {"rsa-1": _RSA, "ec-1": _EC}
        self.fetches: Counter[str] = Counter()
        self.down = False
        self.now = 1000.0  # the verifier's monotonic clock

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.fetches[request.url.path] += 1
        if self.down:
            raise httpx.ConnectError("issuer down", request=request)
        if request.url.path == "/realms/acme/.well-known/openid-configuration":
            return httpx.Response(200, json={
                "issuer": ISSUER, "jwks_uri": f"{ISSUER}/certs",
                "authorization_endpoint": f"{ISSUER}/auth", "token_endpoint": f"{ISSUER}/token",
                "end_session_endpoint": f"{ISSUER}/logout"})
        if request.url.path == "/realms/acme/certs":
            return httpx.Response(200, json={"keys": [
                _public_jwk(kid, key) for kid, key in self.published.items()]})
        return httpx.Response(404)

    @property
    def jwks_fetches(self) -> int:
        return self.fetches["/realms/acme/certs"]

    def token(self, email: str | None = ANN, *, kid: str = "rsa-1", alg: str = "RS256",
              key: Any = None, **claims: Any) -> str:
        now = int(time.time())
        payload: dict[str, Any] = {"iss": ISSUER, "aud": AUDIENCE, "sub": f"sub-{email}",
                                   "iat": now, "exp": now + 300}
        if email is not None:
            payload["email"] = email
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        signing_key = key or (_EC if alg.startswith("ES") else _RSA)
        return jwt.encode(payload, signing_key, algorithm=alg, headers={"kid": kid})


def _public_jwk(kid: str, key: Any) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    else:
        jwk = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig"}


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned(header: dict[str, Any], payload: dict[str, Any]) -> str:
    return f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload).encode())}"


def _claims(token: str) -> dict[str, Any]:
    return dict(jwt.decode(token, options={"verify_signature": False}))


@pytest.fixture
def issuer() -> FakeIssuer:
    return FakeIssuer()


@pytest.fixture
def make_oidc_api(make_api: Callable[..., Api], issuer: FakeIssuer) -> Callable[..., Api]:
    def build(**overrides: Any) -> Api:
        api = make_api(oidc_issuer=ISSUER, oidc_audience=AUDIENCE, oidc_client_id=CLIENT_ID,
                       **overrides)
        state = api.client.app.state.clearance  # type: ignore[attr-defined]
        state.oidc.close()
        state.oidc = OidcVerifier(
            state.settings, entitlements=state.resolver.entitlements_for,
            http=httpx.Client(transport=httpx.MockTransport(issuer.handle)),
            clock=lambda: issuer.now)
        return api

    return build


@pytest.fixture
def oidc_api(make_oidc_api: Callable[..., Api]) -> Api:
    return make_oidc_api()


def _world(api: Api) -> None:
    api.group("board", [f"user:{BOB}"])
    source = api.source()
    api.put_doc(source, "memo", SECRET, allow=["group:board"], title="Merger memo")
    api.put_doc(source, "menu", PUBLIC, allow=["everyone"], title="Cafeteria")


def _search(api: Api, token: str, query: str, **headers: str) -> httpx.Response:
    response: httpx.Response = api.call("POST", "/v1/search", key=token, headers=headers,
                                        json={"query": query, "top_k": 50})
    return response


def _refused(response: httpx.Response, code: str, token: str) -> None:
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == code, response.text
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for part in token.split("."):  # the message never echoes the token
        assert len(part) < 8 or part not in response.text


# -- a valid token ------------------------------------------------------------------------

def test_a_valid_token_searches_as_its_user_and_sees_only_what_they_may_read(
        oidc_api: Api, issuer: FakeIssuer) -> None:
    _world(oidc_api)
    ann = _search(oidc_api, issuer.token("Ann@X.com"), "QX7731Z Halvorsen merger memo")
    assert ann.status_code == 200, ann.text
    assert "qx7731z" not in ann.text.lower() and "merger" not in ann.text.lower()
    lunch = _search(oidc_api, issuer.token(ANN), "When is lunch served?").json()["hits"]
    assert [h["title"] for h in lunch][:1] == ["Cafeteria"]
    bob = _search(oidc_api, issuer.token(BOB), "QX7731Z").json()["hits"]
    assert bob and bob[0]["title"] == "Merger memo"


def test_an_ec_signed_token_is_accepted(oidc_api: Api, issuer: FakeIssuer) -> None:
    response = oidc_api.call("GET", "/v1/me/history",
                             key=issuer.token(ANN, kid="ec-1", alg="ES256"))
    assert response.status_code == 200, response.text


def test_audit_rows_name_the_signed_in_user(oidc_api: Api, issuer: FakeIssuer) -> None:
    _world(oidc_api)
    assert _search(oidc_api, issuer.token(ANN), "lunch").status_code == 200
    records = oidc_api.call("GET", "/v1/audit", params={"kind": "search"}).json()["records"]
    assert records[0]["caller"] == f"user:{ANN}" and records[0]["user_id"] == f"user:{ANN}"
    assert records[0]["on_behalf_of"] is None


def test_a_signed_in_user_cannot_act_on_behalf_of_anyone(oidc_api: Api,
                                                          issuer: FakeIssuer) -> None:
    _world(oidc_api)
    response = _search(oidc_api, issuer.token(ANN), "QX7731Z",
                       **{"X-On-Behalf-Of": BOB})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "on_behalf_of_not_allowed"
    assert "qx7731z" not in response.text.lower()


def test_a_token_within_the_clock_leeway_is_accepted(oidc_api: Api,
                                                      issuer: FakeIssuer) -> None:
    token = issuer.token(ANN, exp=int(time.time()) - 5)
    assert oidc_api.call("GET", "/v1/me/history", key=token).status_code == 200


# -- refusals ---------------------------------------------------------------------------

def test_an_expired_token_is_refused(oidc_api: Api, issuer: FakeIssuer) -> None:
    token = issuer.token(ANN, exp=int(time.time()) - 120, iat=int(time.time()) - 600)
    _refused(_search(oidc_api, token, "lunch"), "token_expired", token)


def test_a_token_without_expiry_is_refused(oidc_api: Api, issuer: FakeIssuer) -> None:
    token = issuer.token(ANN, exp=None)
    _refused(_search(oidc_api, token, "lunch"), "token_claim_missing", token)


def test_a_token_not_yet_valid_is_refused(oidc_api: Api, issuer: FakeIssuer) -> None:
    token = issuer.token(ANN, nbf=int(time.time()) + 600)
    _refused(_search(oidc_api, token, "lunch"), "token_invalid", token)


def test_a_token_of_another_issuer_is_refused(oidc_api: Api, issuer: FakeIssuer) -> None:
    token = issuer.token(ANN, iss="https://evil.example.test/realms/acme")
    _refused(_search(oidc_api, token, "lunch"), "token_issuer_invalid", token)
    assert issuer.jwks_fetches == 0  # refused before any key lookup


def test_a_token_for_another_audience_is_refused(oidc_api: Api, issuer: FakeIssuer) -> None:
    for aud in ("another-app", ["another-app", "more"]):
        token = issuer.token(ANN, aud=aud)
        _refused(_search(oidc_api, token, "lunch"), "token_audience_invalid", token)
    token = issuer.token(ANN, aud=None)
    _refused(_search(oidc_api, token, "lunch"), "token_audience_invalid", token)


def test_a_token_listing_this_api_among_audiences_is_accepted(oidc_api: Api,
                                                               issuer: FakeIssuer) -> None:
    token = issuer.token(ANN, aud=["account", AUDIENCE])
    assert oidc_api.call("GET", "/v1/me/history", key=token).status_code == 200


def test_an_unsigned_alg_none_token_is_refused(oidc_api: Api, issuer: FakeIssuer) -> None:
    claims = _claims(issuer.token(ANN))
    for alg in ("none", "None", "NONE"):
        token = _unsigned({"alg": alg, "typ": "JWT", "kid": "rsa-1"}, claims) + "."
        _refused(_search(oidc_api, token, "lunch"), "token_algorithm_refused", token)


def test_hs256_signed_with_the_public_key_is_refused(oidc_api: Api,
                                                      issuer: FakeIssuer) -> None:
    """Key confusion: an HMAC 'signed' with the issuer's public key, which anyone has."""
    claims = _claims(issuer.token(ANN))
    pem = _RSA.public_key().public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    jwk_json = json.dumps(_public_jwk("rsa-1", _RSA)).encode()
    for secret in (pem, jwk_json):
        signing_input = _unsigned({"alg": "HS256", "typ": "JWT", "kid": "rsa-1"}, claims)
        signature = hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
        token = f"{signing_input}.{_b64(signature)}"
        _refused(_search(oidc_api, token, "lunch"), "token_algorithm_refused", token)


def test_an_algorithm_outside_the_allow_list_or_unfit_for_its_key_is_refused(
        oidc_api: Api, issuer: FakeIssuer) -> None:
    token = issuer.token(ANN, alg="RS384")  # a fine algorithm, but not allow-listed
    _refused(_search(oidc_api, token, "lunch"), "token_algorithm_refused", token)
    token = issuer.token(ANN, kid="rsa-1", alg="ES256")  # EC signature, RSA key id
    _refused(_search(oidc_api, token, "lunch"), "token_algorithm_refused", token)


def test_an_unknown_key_id_is_refused_after_one_rate_limited_refetch(
        oidc_api: Api, issuer: FakeIssuer) -> None:
    assert oidc_api.call("GET", "/v1/me/history", key=issuer.token(ANN)).status_code == 200
    assert issuer.jwks_fetches == 1
    issuer.now += 31  # past CLEARANCE_OIDC_JWKS_MIN_REFETCH_S
    token = issuer.token(ANN, kid="rotated", key=_RSA_ROTATED)
    _refused(_search(oidc_api, token, "lunch"), "token_key_unknown", token)
    assert issuer.jwks_fetches == 2  # one look for a rotated key
    for _ in range(3):
        _refused(_search(oidc_api, token, "lunch"), "token_key_unknown", token)
    assert issuer.jwks_fetches == 2  # within the interval: no refetch per bad token


def test_a_rotated_key_is_picked_up_by_the_refetch(oidc_api: Api, issuer: FakeIssuer) -> None:
    assert oidc_api.call("GET", "/v1/me/history", key=issuer.token(ANN)).status_code == 200
    issuer.published["rotated"] = _RSA_ROTATED
    issuer.now += 31  # past CLEARANCE_OIDC_JWKS_MIN_REFETCH_S
    token = issuer.token(ANN, kid="rotated", key=_RSA_ROTATED)
    assert oidc_api.call("GET", "/v1/me/history", key=token).status_code == 200
    assert issuer.jwks_fetches == 2


def test_a_key_removed_from_the_jwks_stops_working_after_the_ttl(
        oidc_api: Api, issuer: FakeIssuer) -> None:
    token = issuer.token(ANN)
    assert oidc_api.call("GET", "/v1/me/history", key=token).status_code == 200
    del issuer.published["rsa-1"]
    issuer.now += 3601
    _refused(oidc_api.call("GET", "/v1/me/history", key=token), "token_key_unknown", token)


def test_a_tampered_payload_is_refused(oidc_api: Api, issuer: FakeIssuer) -> None:
    header, _payload, signature = issuer.token(ANN).split(".")
    forged_claims = {**_claims(issuer.token(ANN)), "email": BOB}
    token = f"{header}.{_b64(json.dumps(forged_claims).encode())}.{signature}"
    _refused(_search(oidc_api, token, "QX7731Z"), "token_invalid", token)


def test_a_token_signed_by_an_unpublished_key_under_a_known_kid_is_refused(
        oidc_api: Api, issuer: FakeIssuer) -> None:
    token = issuer.token(ANN, kid="rsa-1", key=_RSA_ROTATED)
    _refused(_search(oidc_api, token, "lunch"), "token_invalid", token)


def test_a_token_without_the_user_claim_or_with_a_bad_one_is_refused(
        oidc_api: Api, issuer: FakeIssuer) -> None:
    token = issuer.token(None)
    _refused(_search(oidc_api, token, "lunch"), "token_claim_missing", token)
    invalid: tuple[dict[str, Any], ...] = ({"email": "not-an-email"}, {"email_verified": False})
    for claims in invalid:
        token = issuer.token(**{"email": ANN, **claims})
        _refused(_search(oidc_api, token, "lunch"), "token_claim_invalid", token)


def test_garbage_bearer_tokens_are_refused(oidc_api: Api) -> None:
    for token in ("not-a-jwt", "a.b.c", "x" * 20_000):
        _refused(oidc_api.call("GET", "/v1/me/history", key=token), "token_invalid", token)


def test_the_issuer_unreachable_is_503_not_a_refusal(oidc_api: Api,
                                                     issuer: FakeIssuer) -> None:
    issuer.down = True
    response = oidc_api.call("GET", "/v1/me/history", key=issuer.token(ANN))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "identity_provider_unavailable"


def test_an_unreachable_issuer_is_retried_at_most_once_per_interval(
        oidc_api: Api, issuer: FakeIssuer) -> None:
    issuer.down = True
    for _ in range(3):
        response = oidc_api.call("GET", "/v1/me/history", key=issuer.token(ANN))
        assert response.json()["error"]["code"] == "identity_provider_unavailable"
    assert sum(issuer.fetches.values()) == 1
    issuer.down = False
    issuer.now += 31
    assert oidc_api.call("GET", "/v1/me/history", key=issuer.token(ANN)).status_code == 200


def test_cached_keys_outlive_an_issuer_outage(oidc_api: Api, issuer: FakeIssuer) -> None:
    assert oidc_api.call("GET", "/v1/me/history", key=issuer.token(ANN)).status_code == 200
    issuer.down = True
    issuer.now += 3601
    assert oidc_api.call("GET", "/v1/me/history", key=issuer.token(ANN)).status_code == 200


# -- tenants and admins -------------------------------------------------------------------

def test_the_tenant_claim_puts_the_user_in_their_tenant_only(
        make_oidc_api: Callable[..., Api], issuer: FakeIssuer) -> None:
    api = make_oidc_api(oidc_tenant_claim="org")
    _world(api)  # tenant default
    acme_admin = api.key(scopes=["admin"], tenant="acme")
    response = api.call("POST", "/v1/sources", key=acme_admin, json={"name": "w", "kind": "push"})
    acme_source = response.json()["id"]
    response = api.call("PUT", f"/v1/sources/{acme_source}/documents/canteen",
                        key=acme_admin, params={"wait": "true"}, json={
                            "title": "Acme canteen", "text": "Acme lunch is at one o'clock.",
                            "acl": {"allow": ["everyone"], "deny": []}})
    assert response.status_code == 200, response.text

    hits = _search(api, issuer.token(BOB, org="acme"), "lunch QX7731Z merger").json()["hits"]
    assert {h["title"] for h in hits} == {"Acme canteen"}
    hits = _search(api, issuer.token(BOB, org="default"), "lunch QX7731Z").json()["hits"]
    assert "Acme canteen" not in {h["title"] for h in hits} and hits
    token = issuer.token(BOB)
    _refused(_search(api, token, "lunch"), "token_claim_missing", token)
    token = issuer.token(BOB, org=["acme", "default"])
    _refused(_search(api, token, "lunch"), "token_claim_invalid", token)


def test_without_a_tenant_claim_everyone_is_in_the_default_tenant(
        oidc_api: Api, issuer: FakeIssuer) -> None:
    _world(oidc_api)
    hits = _search(oidc_api, issuer.token(BOB, org="acme"), "QX7731Z").json()["hits"]
    assert hits and hits[0]["title"] == "Merger memo"


def test_admin_group_members_may_use_admin_routes_and_others_get_403(
        oidc_api: Api, issuer: FakeIssuer) -> None:
    oidc_api.group("ops", [f"user:{ANN}"])
    oidc_api.group("clearance-admins", ["group:ops"])  # nested membership counts
    ann, bob = issuer.token(ANN), issuer.token(BOB)
    assert oidc_api.call("GET", "/v1/groups", key=ann).status_code == 200
    response = oidc_api.call("PUT", "/v1/groups/eng", key=ann, json={"members": [f"user:{BOB}"]})
    assert response.status_code == 200, response.text
    refused = oidc_api.call("GET", "/v1/groups", key=bob)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "forbidden"
    # an admin still searches as herself, never for someone else
    assert _search(oidc_api, ann, "lunch").status_code == 200
    response = _search(oidc_api, ann, "lunch", **{"X-On-Behalf-Of": BOB})
    assert response.json()["error"]["code"] == "on_behalf_of_not_allowed"
    records = oidc_api.call("GET", "/v1/audit", params={"kind": "group.put"}).json()["records"]
    assert records[0]["caller"] == f"user:{ANN}"
    # leaving the group takes effect on the next request, whatever the token says
    oidc_api.group("ops", [f"user:{BOB}"])
    assert oidc_api.call("GET", "/v1/groups", key=ann).status_code == 403
    assert oidc_api.call("GET", "/v1/groups", key=bob).status_code == 200


def test_an_admin_of_one_tenant_is_no_admin_of_another(
        make_oidc_api: Callable[..., Api], issuer: FakeIssuer) -> None:
    api = make_oidc_api(oidc_tenant_claim="org")
    api.group("clearance-admins", [f"user:{ANN}"])  # tenant default
    assert api.call("GET", "/v1/groups", key=issuer.token(ANN, org="default")).status_code == 200
    response = api.call("GET", "/v1/groups", key=issuer.token(ANN, org="acme"))
    assert response.status_code == 403


# -- keys alongside tokens ------------------------------------------------------------------

def test_api_keys_still_work_when_oidc_is_on(oidc_api: Api) -> None:
    _world(oidc_api)
    query_key = oidc_api.key(scopes=["query"], user_id=BOB)
    assert oidc_api.search(BOB, "QX7731Z")  # the bootstrap admin key, on behalf of Bob
    response = _search(oidc_api, query_key, "QX7731Z")
    assert response.status_code == 200 and response.json()["hits"]
    unknown = oidc_api.call("GET", "/v1/me/history", key="ck_not_a_real_key")
    assert unknown.status_code == 401
    assert unknown.json()["error"]["code"] == "unauthenticated"


def test_tokens_are_refused_when_oidc_is_off(api: Api, issuer: FakeIssuer) -> None:
    response = api.call("GET", "/v1/me/history", key=issuer.token(ANN))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"


# -- the page's sign-in configuration -------------------------------------------------------

def test_auth_config_gives_the_page_what_pkce_needs(oidc_api: Api) -> None:
    response = oidc_api.call("GET", "/v1/auth/config", key=None)
    assert response.status_code == 200
    assert response.json() == {
        "mode": "oidc", "issuer": ISSUER, "client_id": CLIENT_ID, "audience": AUDIENCE,
        "authorization_endpoint": f"{ISSUER}/auth", "token_endpoint": f"{ISSUER}/token",
        "end_session_endpoint": f"{ISSUER}/logout", "scopes": ["openid", "email", "profile"]}


def test_auth_config_without_oidc_says_keys(api: Api) -> None:
    response = api.call("GET", "/v1/auth/config", key=None)
    assert response.status_code == 200 and response.json()["mode"] == "keys"
    assert response.json()["issuer"] is None


def test_auth_config_in_the_demo_says_demo(api: Api) -> None:
    api.client.app.state.demo_users = [{"id": "user:ann@x.com"}]  # type: ignore[attr-defined]
    assert api.call("GET", "/v1/auth/config", key=None).json()["mode"] == "demo"


def test_auth_config_when_the_issuer_is_down_is_503(oidc_api: Api, issuer: FakeIssuer) -> None:
    issuer.down = True
    response = oidc_api.call("GET", "/v1/auth/config", key=None)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "identity_provider_unavailable"


def test_the_sign_in_script_is_served(api: Api) -> None:
    response = api.call("GET", "/static/oidc.js", key=None)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    for name in ("loadAuthConfig", "signIn", "completeSignIn", "accessToken", "apiFetch",
                 "signOut", "S256"):
        assert name in response.text


# -- settings ---------------------------------------------------------------------------

@pytest.mark.parametrize(("values", "message"), [
    ({"oidc_issuer": ISSUER}, "CLEARANCE_OIDC_AUDIENCE"),
    ({"oidc_issuer": "http://idp.example.test", "oidc_audience": "a"}, "https://"),
    ({"oidc_algorithms": ["RS256", "HS256"]}, "HS256"),
    ({"oidc_algorithms": ["none"]}, "none"),
    ({"oidc_groups_claim": "groups"}, "CLEARANCE_OIDC_GROUPS_CLAIM"),
])
def test_unsafe_oidc_settings_are_refused_at_start(values: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**values)
