"""The OpenID Connect relying party: discovery, the code flow with PKCE, and the checks on the ID token.

Only the scopes `openid profile` are requested; the national register number (`rrn`, `egovnrn`) is never
asked for, and of the ID token only `iss`, `sub` and `acr` leave this module.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.common.urls import add_params_to_uri
from authlib.integrations.base_client import OAuthError
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from mapsvc.errors import BadRequest, MapsvcError, Unauthorized

SCOPE = "openid profile"
# Signatures checked against the provider's published keys; "none" and shared-secret HMAC never pass.
ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
TIMEOUT = 10  # seconds for each request to the provider
METADATA_SECONDS = 600  # discovery documents and key sets are re-read after this
LEEWAY = 60  # seconds of clock difference tolerated on exp/iat
REQUIRED_METADATA = ("issuer", "authorization_endpoint", "token_endpoint", "jwks_uri")
LOOPBACK = ("localhost", "127.0.0.1", "::1")


class ProviderUnavailable(MapsvcError):
    """The login provider did not answer, or answered something that is not OpenID Connect."""

    status = 502
    code = "oidc_provider_unavailable"


@dataclass(frozen=True)
class Provider:
    """A configured OpenID Connect provider; `key` names it in the session ('instance' or 'platform:<slug>')."""

    key: str
    label: str
    issuer: str
    client_id: str
    client_secret: str | None = None


@dataclass(frozen=True)
class Authentication:
    """What a verified ID token says: the issuer, the subject (to be hashed at once) and the assurance level."""

    issuer: str
    subject: str
    acr: str | None


def check_issuer_url(issuer: str) -> str:
    """Check an issuer URL: https (plain http only on this machine), no query or fragment."""
    issuer = (issuer or "").strip()
    parts = urlsplit(issuer)
    secure = parts.scheme == "https" or (parts.scheme == "http" and parts.hostname in LOOPBACK)
    if not secure or not parts.hostname or parts.query or parts.fragment or len(issuer) > 500:
        raise BadRequest(f"{issuer[:80]!r} is not an issuer URL: write the https:// address the provider "
                         "publishes as its issuer, e.g. https://authenticatie.vlaanderen.be/op.",
                         code="invalid_issuer")
    return issuer


class MetadataCache:
    """Discovery documents and key sets per issuer, kept for METADATA_SECONDS (shared by an app's threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._metadata: dict[str, tuple[float, dict]] = {}
        self._keys: dict[str, tuple[float, KeySet]] = {}

    def metadata(self, issuer: str) -> dict:
        """Return the provider's discovery document, fetched from {issuer}/.well-known/openid-configuration."""
        with self._lock:
            cached = self._metadata.get(issuer)
        if cached and time.monotonic() < cached[0]:
            return cached[1]
        document = _discover(issuer)
        with self._lock:
            self._metadata[issuer] = (time.monotonic() + METADATA_SECONDS, document)
        return document

    def key_set(self, issuer: str, *, refresh: bool = False) -> KeySet:
        """Return the provider's signing keys from its jwks_uri (refresh: fetch again, after a key rotation)."""
        with self._lock:
            cached = self._keys.get(issuer)
        if cached and not refresh and time.monotonic() < cached[0]:
            return cached[1]
        document = _get_json(self.metadata(issuer)["jwks_uri"], "key set")
        try:
            keys = KeySet.import_key_set(document)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise ProviderUnavailable(f"The login provider's key set cannot be read ({exc.__class__.__name__}).") \
                from None
        with self._lock:
            self._keys[issuer] = (time.monotonic() + METADATA_SECONDS, keys)
        return keys


def _get_json(url: str, what: str) -> dict:
    try:
        answer = requests.get(url, timeout=TIMEOUT, headers={"Accept": "application/json"})
        answer.raise_for_status()
        document = answer.json()
    except (requests.RequestException, ValueError) as exc:
        raise ProviderUnavailable(f"The login provider's {what} at {url[:200]} could not be read "
                                  f"({exc.__class__.__name__}); try again later.") from None
    if not isinstance(document, dict):
        raise ProviderUnavailable(f"The login provider's {what} at {url[:200]} is not a JSON object.")
    return document


def _discover(issuer: str) -> dict:
    document = _get_json(issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery document")
    missing = [name for name in REQUIRED_METADATA if not isinstance(document.get(name), str)]
    if missing:
        raise ProviderUnavailable(f"The login provider's discovery document lacks {', '.join(missing)}.")
    # OIDC Discovery §4.3: the issuer in the document must be the one we asked for.
    if document["issuer"].rstrip("/") != issuer.rstrip("/"):
        raise ProviderUnavailable(f"The discovery document names issuer {document['issuer'][:200]!r}, not "
                                  f"{issuer[:200]!r}; check the configured issuer URL.")
    if "code" not in document.get("response_types_supported", ["code"]):
        raise ProviderUnavailable("The login provider does not offer the authorization code flow.")
    return document


def _session(provider: Provider, metadata: dict, redirect_uri: str) -> OAuth2Session:
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if not provider.client_secret:
        method = "none"  # a public client: PKCE alone binds the code to this login
    elif "client_secret_basic" in methods:
        method = "client_secret_basic"
    else:
        method = "client_secret_post"
    return OAuth2Session(provider.client_id, provider.client_secret, scope=SCOPE, redirect_uri=redirect_uri,
                         code_challenge_method="S256", token_endpoint_auth_method=method,
                         default_timeout=TIMEOUT)


def authorization_request(provider: Provider, metadata: dict, redirect_uri: str, *,
                          ui_locales: str | None = None) -> tuple[str, dict[str, str]]:
    """Return the provider's authorization URL and the secrets the callback needs (state, nonce, verifier)."""
    state, nonce = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    verifier = secrets.token_urlsafe(64)  # 86 characters: RFC 7636 wants 43 to 128
    extra = {"nonce": nonce}
    if ui_locales:
        extra["ui_locales"] = ui_locales
    with _session(provider, metadata, redirect_uri) as client:
        url, _ = client.create_authorization_url(metadata["authorization_endpoint"], state=state,
                                                 code_verifier=verifier, **extra)
    return url, {"state": state, "nonce": nonce, "code_verifier": verifier}


def authenticate(provider: Provider, cache: MetadataCache, redirect_uri: str, *, code: str, nonce: str,
                 code_verifier: str) -> Authentication:
    """Exchange the code for tokens and verify the ID token (signature, iss, aud, exp, nonce)."""
    metadata = cache.metadata(provider.issuer)
    with _session(provider, metadata, redirect_uri) as client:
        try:
            token = client.fetch_token(metadata["token_endpoint"], grant_type="authorization_code", code=code,
                                       code_verifier=code_verifier, redirect_uri=redirect_uri)
        except OAuthError as exc:
            if exc.error == "invalid_grant":
                raise Unauthorized("The login provider refused the login code: it expired or was used already. "
                                   "Log in again.", code="oidc_code_rejected",
                                   details={"provider_error": str(exc.error)[:100]}) from None
            raise ProviderUnavailable(f"The login provider refused this service ({str(exc.error)[:100]}); "
                                      "check its client id and secret.") from None
        except (requests.RequestException, ValueError) as exc:
            raise ProviderUnavailable(f"The login provider's token endpoint could not be reached "
                                      f"({exc.__class__.__name__}); try again later.") from None
    id_token = token.get("id_token")
    if not isinstance(id_token, str):
        raise Unauthorized("The login provider sent no ID token.", code="oidc_invalid_token")
    claims = verify_id_token(id_token, provider, metadata, cache, nonce=nonce,
                             access_token=token.get("access_token"))
    acr = claims.get("acr")
    return Authentication(issuer=claims["iss"], subject=claims["sub"],
                          acr=acr[:200] if isinstance(acr, str) and acr else None)


def verify_id_token(id_token: str, provider: Provider, metadata: dict, cache: MetadataCache, *, nonce: str,
                    access_token: Any = None) -> CodeIDToken:
    """Check the ID token's signature against the provider's JWKS, then iss, aud, exp and nonce."""
    algorithms = [a for a in metadata.get("id_token_signing_alg_values_supported") or ["RS256"] if a in ASYMMETRIC]
    if not algorithms:
        raise ProviderUnavailable("The login provider signs ID tokens with no public-key algorithm.")
    registry = JWSRegistry(algorithms=algorithms)
    try:
        try:
            decoded = jwt.decode(id_token, cache.key_set(provider.issuer), registry=registry)
        except InvalidKeyIdError:  # the provider may have rotated its keys since we read them
            decoded = jwt.decode(id_token, cache.key_set(provider.issuer, refresh=True), registry=registry)
        options = {"iss": {"essential": True, "value": metadata["issuer"]},
                   "aud": {"essential": True, "value": provider.client_id},
                   "sub": {"essential": True}, "exp": {"essential": True}, "iat": {"essential": True},
                   "nonce": {"essential": True, "value": nonce}}
        params = {"nonce": nonce, "client_id": provider.client_id}
        if isinstance(access_token, str):
            params["access_token"] = access_token
        claims = CodeIDToken(decoded.claims, decoded.header, options, params)
        claims.validate(leeway=LEEWAY)
    except JoseError as exc:
        raise Unauthorized("The login provider's answer could not be verified (" + _reason(exc) + "). "
                           "Log in again; if this keeps happening, tell the service's administrator.",
                           code="oidc_invalid_token", details={"reason": _reason(exc)}) from None
    return claims


def _reason(exc: JoseError) -> str:
    return f"{exc.error}: {exc.description}"[:200] if exc.description else str(exc.error)[:200]


def logout_url(provider: Provider, cache: MetadataCache, post_logout_redirect_uri: str) -> str | None:
    """Return the provider's RP-initiated logout URL, or None when it has no end_session_endpoint."""
    try:
        endpoint = cache.metadata(provider.issuer).get("end_session_endpoint")
    except ProviderUnavailable:
        return None  # the local logout happened; the provider's session ends on its own
    if not isinstance(endpoint, str) or urlsplit(endpoint).scheme not in ("https", "http"):
        return None
    return add_params_to_uri(endpoint, [("client_id", provider.client_id),
                                        ("post_logout_redirect_uri", post_logout_redirect_uri)])
