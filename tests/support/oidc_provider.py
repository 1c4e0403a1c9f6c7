"""A real OpenID Connect provider for the tests, built on Authlib's server side, served on 127.0.0.1.

Authorization code flow with PKCE (S256 required), ID tokens signed with its own RSA key published at
/jwks, a discovery document, and RP-initiated logout. It consents at once for `person` (a test user with a
given sub and acr) and records what the relying party asked for. Switches for the error paths: `refuse`
(the person cancels), `code_lifetime` (negative: every code has expired), `rogue_key` (sign with a key that
is not in the JWKS), `issuer_claim` / `audience_claim` (a wrong iss or aud in the ID token), `nonce_claim`
(a wrong nonce), `expired_by` (exp that many seconds in the past), `signing_alg` ("none": unsigned, "HS256":
signed with the client secret), `replay_id_token` (send the first ID token it ever issued instead of a new
one) and `discovery_issuer` (the discovery document names another issuer).
"""

from __future__ import annotations

import base64
import hmac
import json
import threading
import time
from dataclasses import dataclass

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Error, grants
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import OpenIDCode, UserInfo
from authlib.oidc.core.models import AuthorizationCodeMixin
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Flask, jsonify, request
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey
from werkzeug.serving import WSGIRequestHandler, make_server

SCOPES = ("openid", "profile")
_KEYS: dict[str, RSAKey] = {}


def _key(name: str, kid: str) -> RSAKey:
    """An RSA key per name, generated once per test session (2048 bits take a moment)."""
    if name not in _KEYS:
        _KEYS[name] = RSAKey.generate_key(2048, parameters={"kid": kid, "use": "sig", "alg": "RS256"})
    return _KEYS[name]


@dataclass
class Person:
    """Who logs in at the provider: the subject and the assurance level of the login."""

    sub: str
    acr: str | None = None
    name: str = "Jan Peeters"  # in the profile scope: the relying party must not keep it


@dataclass
class Client(ClientMixin):
    client_id: str
    client_secret: str | None
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]

    @property
    def client_metadata(self) -> dict:
        return {"post_logout_redirect_uris": self.post_logout_redirect_uris}

    def get_client_id(self):
        return self.client_id

    def get_default_redirect_uri(self):
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope):
        return " ".join(s for s in (scope or "").split() if s in SCOPES)

    def check_redirect_uri(self, redirect_uri):
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret):
        return self.client_secret is not None and hmac.compare_digest(self.client_secret, client_secret or "")

    def check_endpoint_auth_method(self, method, endpoint):
        if endpoint != "token":
            return True
        return method == ("client_secret_basic" if self.client_secret else "none")

    def check_response_type(self, response_type):
        return response_type == "code"

    def check_grant_type(self, grant_type):
        return grant_type == "authorization_code"


@dataclass
class Code(AuthorizationCodeMixin):
    code: str
    client_id: str
    redirect_uri: str
    scope: str
    person: Person
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    issued_at: float

    def get_redirect_uri(self):
        return self.redirect_uri

    def get_scope(self):
        return self.scope

    def get_nonce(self):
        return self.nonce

    def get_auth_time(self):
        return int(self.issued_at)

    def get_acr(self):
        return self.person.acr


class _S256Only(CodeChallenge):
    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]  # a plain challenge would defeat PKCE


class _Server(AuthorizationServer):
    provider: OidcProvider


class _CodeGrant(grants.AuthorizationCodeGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]

    def save_authorization_code(self, code, request):
        provider = self.server.provider
        data = request.payload.data
        provider.codes[code] = Code(code, request.client.client_id, request.payload.redirect_uri, request.scope,
                                    request.user, data.get("nonce"), data.get("code_challenge"),
                                    data.get("code_challenge_method"), time.time())
        provider.used_nonces.add(data.get("nonce"))

    def query_authorization_code(self, code, client):
        provider = self.server.provider
        found = provider.codes.get(code)
        if found is None or found.client_id != client.client_id:
            return None
        if time.time() > found.issued_at + provider.code_lifetime:
            return None  # expired: the token endpoint answers invalid_grant
        return found

    def delete_authorization_code(self, authorization_code):
        self.server.provider.codes.pop(authorization_code.code, None)  # a code works once

    def authenticate_user(self, authorization_code):
        return authorization_code.person


class _IdToken(OpenIDCode):
    def __init__(self, provider: OidcProvider):
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce, request):
        return nonce in self.provider.used_nonces

    def resolve_client_private_key(self, client):
        return self.provider.signing_key()

    def get_encode_header(self, client):
        return {"alg": "RS256", "kid": self.provider.signing_key().kid}

    def get_client_claims(self, client):
        return {"iss": self.provider.issuer_claim or self.provider.issuer,
                "aud": [self.provider.audience_claim or client.client_id]}

    def generate_user_info(self, user, scope):
        info = UserInfo(sub=user.sub)
        if "profile" in scope.split():
            info["name"] = user.name
        return info


class _EndSession(EndSessionEndpoint):
    def get_server_jwks(self):
        return self.server.provider.key_set()

    def end_session(self, end_session_request):
        self.server.provider.logouts.append(dict(end_session_request.request.payload.data))

    def is_post_logout_redirect_uri_legitimate(self, request, post_logout_redirect_uri, client, logout_hint):
        return True  # a registered test client: send the browser back without asking


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):
        pass


class OidcProvider:
    """One provider with one registered client, served on a free port of 127.0.0.1 until close()."""

    def __init__(self, *, client_id: str = "mapsvc-test", client_secret: str | None = "s3cret-for-tests",
                 redirect_uri: str = "http://localhost/login/oidc/callback",
                 post_logout_redirect_uri: str = "http://localhost/"):
        self.client = Client(client_id, client_secret, [redirect_uri], [post_logout_redirect_uri])
        self.person = Person(sub="199001011234-sub")
        self.codes: dict[str, Code] = {}
        self.used_nonces: set[str | None] = set()
        self.authorize_requests: list[dict] = []
        self.logouts: list[dict] = []
        self.refuse = False
        self.code_lifetime = 600.0
        self.rogue_key: str | None = None  # None, "same_kid" or "unknown_kid"
        self.issuer_claim: str | None = None
        self.audience_claim: str | None = None
        self.nonce_claim: str | None = None
        self.expired_by: int | None = None
        self.signing_alg: str | None = None  # None (RS256 with the published key), "none" or "HS256"
        self.replay_id_token = False
        self.discovery_issuer: str | None = None
        self.id_tokens: list[str] = []  # every ID token issued, before any tampering
        self._key = _key("main", "test-key-1")
        self._http = make_server("127.0.0.1", 0, self._app(), threaded=True, request_handler=_Quiet)
        self.issuer = f"http://127.0.0.1:{self._http.server_port}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)
        self._thread.start()

    def signing_key(self) -> RSAKey:
        """The key ID tokens are signed with: the published one, or a rogue one when told so."""
        if self.rogue_key == "same_kid":
            return _key("rogue-same-kid", self._key.kid)
        if self.rogue_key == "unknown_kid":
            return _key("rogue-unknown-kid", "not-published")
        return self._key

    def key_set(self) -> KeySet:
        """The published keys (public parts only leave through /jwks)."""
        return KeySet([self._key])

    def close(self) -> None:
        """Stop serving."""
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(timeout=5)

    def _tamper(self, id_token: str) -> str:
        """Apply the ID token switches to a freshly issued token."""
        self.id_tokens.append(id_token)
        if self.replay_id_token:
            return self.id_tokens[0]
        if self.nonce_claim is None and self.expired_by is None and self.signing_alg is None:
            return id_token
        decoded = jwt.decode(id_token, self.signing_key())
        claims = dict(decoded.claims)
        if self.nonce_claim is not None:
            claims["nonce"] = self.nonce_claim
        if self.expired_by is not None:
            now = int(time.time())
            claims["iat"], claims["exp"] = now - self.expired_by - 600, now - self.expired_by
        if self.signing_alg == "none":
            part = lambda data: base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()  # noqa: E731
            return f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
        if self.signing_alg == "HS256":  # a symmetric signature anyone holding the client secret could make
            return jwt.encode({"alg": "HS256"}, claims, OctKey.import_key(self.client.client_secret))
        return jwt.encode(dict(decoded.header), claims, self.signing_key())

    def discovery(self) -> dict:
        base = self.issuer
        return {
            "issuer": self.discovery_issuer or base,
            "authorization_endpoint": f"{base}/authorize", "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks", "end_session_endpoint": f"{base}/logout",
            "response_types_supported": ["code"], "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"], "scopes_supported": list(SCOPES),
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "none"],
            "code_challenge_methods_supported": ["S256"], "grant_types_supported": ["authorization_code"],
            "acr_values_supported": ["low", "substantial", "high"], "claims_supported": ["sub", "name", "acr"],
        }

    def _app(self) -> Flask:
        app = Flask("oidc_provider")
        server = _Server(app, query_client=self._query_client, save_token=lambda token, request: None)
        server.provider = self
        server.register_grant(_CodeGrant, [_S256Only(required=True), _IdToken(self)])
        server.register_endpoint(_EndSession)

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(self.discovery())

        @app.get("/jwks")
        def jwks():
            return jsonify(self.key_set().as_dict(private=False))

        @app.get("/authorize")
        def authorize():
            self.authorize_requests.append(request.args.to_dict())
            if request.args.get("code_challenge_method") != "S256":
                return jsonify({"error": "invalid_request", "error_description": "S256 PKCE required"}), 400
            try:
                grant = server.get_consent_grant(end_user=self.person)
            except OAuth2Error as error:
                return server.handle_error_response(None, error)
            return server.create_authorization_response(grant=grant, grant_user=None if self.refuse else self.person)

        @app.post("/token")
        def token():
            response = server.create_token_response()
            body = response.get_json(silent=True) if response.status_code == 200 else None
            if isinstance(body, dict) and "id_token" in body:
                body["id_token"] = self._tamper(body["id_token"])
                response.set_data(json.dumps(body))
            return response

        @app.route("/logout", methods=["GET", "POST"])
        def logout():
            return server.create_endpoint_response("end_session") or "Logged out"

        return app

    def _query_client(self, client_id):
        return self.client if client_id == self.client.client_id else None
