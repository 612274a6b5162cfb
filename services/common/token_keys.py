"""Agency token keys: one issuer signs with an Ed25519 key (EdDSA, with a `kid`); every service verifies with the
published key set (JWKS) only, and for its own audience.

Why asymmetric: with one shared HS256 key, every process that could verify a token could also mint one — a
`city_office` or `lifecycle` token from any compromised service. Now only the process given the private key
(`ANXIN_TOKEN_SIGNING_JWK`) issues; the others hold public keys (`ANXIN_TOKEN_JWKS`) and cannot.

Why `kid` and a key *set*: rotation. The JWKS lists the old and the new public key while tokens signed by the old
one are still alive; the issuer signs with the new one; nobody is logged out (see docs/operations.md).

Why `aud`: a token names the services it is for (intake, cases, referrals, sanctions, monitoring, webhooks); a service refuses a token
that does not name it, so a token handed to one service cannot be replayed at another it was not meant for.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from jwt.algorithms import OKPAlgorithm

from services.common.auth import InvalidToken, Principal, Role

ISSUER = "anxin"
ALGORITHM = "EdDSA"
# The services a token may name in `aud`; a token asked for without an audience names all of them (what the
# lifecycle worker and the agencies' tools have always done with one token).
AUDIENCES: tuple[str, ...] = ("intake", "cases", "referrals", "sanctions", "monitoring", "webhooks")
# Clocks of the issuer and the services may differ a little: `iat`, `nbf` and `exp` are checked with this slack.
LEEWAY_SECONDS = 30
# How many verified tokens a service remembers (`TokenVerifier.verify`): far more than its clients hold at once.
VERIFIED_TOKENS_KEPT = 4096


class TokenKeyError(ValueError):
    """The token keys configured are unusable (not Ed25519, no `kid`, the signing key not in the JWKS …)."""


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def thumbprint(public_jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint of an OKP key: a stable name for it, whatever `kid` it is given."""
    canonical = json.dumps({k: public_jwk[k] for k in ("crv", "kty", "x")}, separators=(",", ":"), sort_keys=True)
    return _b64url(hashlib.sha256(canonical.encode()).digest())


def new_signing_jwk(kid: str | None = None) -> dict[str, str]:
    """A fresh Ed25519 private JWK; its `kid` defaults to the date and the key's thumbprint."""
    private = OKPAlgorithm.to_jwk(Ed25519PrivateKey.generate(), as_dict=True)
    kid = kid or f"{time.strftime('%Y-%m-%d')}-{thumbprint(private)[:12]}"
    return {**private, "kid": kid, "alg": ALGORITHM, "use": "sig"}


def public_jwk(jwk: dict[str, Any]) -> dict[str, str]:
    """The public half of a JWK (what the JWKS publishes): never `d`."""
    return {k: jwk[k] for k in ("kty", "crv", "x", "kid", "alg", "use") if k in jwk}


def load_json_setting(value: str) -> Any:
    """A setting holding JSON inline, or the path of a file holding it (rotation: edit the file, restart)."""
    text = value.strip()
    if not text.startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise TokenKeyError(f"{text!r} is neither inline JSON nor a readable file")
        text = path.read_text()
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise TokenKeyError(f"not valid JSON: {error}") from None


def _ed25519(jwk: dict[str, Any], *, private: bool) -> Any:
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise TokenKeyError(f"key {jwk.get('kid')!r}: only Ed25519 (kty OKP, crv Ed25519) keys are accepted")
    if jwk.get("alg", ALGORITHM) != ALGORITHM:
        raise TokenKeyError(f"key {jwk.get('kid')!r}: alg must be {ALGORITHM}")
    if not jwk.get("kid"):
        raise TokenKeyError("every token key needs a kid")
    if private and "d" not in jwk:
        raise TokenKeyError(f"key {jwk['kid']!r}: the signing key must be a private JWK (with d)")
    key = OKPAlgorithm.from_jwk(json.dumps(jwk if private else public_jwk(jwk)))
    expected = Ed25519PrivateKey if private else Ed25519PublicKey
    if not isinstance(key, expected):
        raise TokenKeyError(f"key {jwk['kid']!r} is not an Ed25519 {'private' if private else 'public'} key")
    return key


class TokenVerifier:
    """Checks bearer tokens against the JWKS: EdDSA only (never HS256, never `none`), a known `kid`, issuer,
    expiry with leeway, and an `aud` naming one of `audiences` (the service's own name)."""

    def __init__(self, jwks: dict[str, Any], audiences: Sequence[str]) -> None:
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        if not keys:
            raise TokenKeyError('the JWKS must be {"keys": [...]} with at least one key')
        self._keys: dict[str, Ed25519PublicKey] = {}
        for jwk in keys:
            if "d" in jwk:
                # A verifier that holds a private key could mint tokens: exactly what this design removes.
                raise TokenKeyError(f"key {jwk.get('kid')!r} in the JWKS is private; publish public keys only")
            if jwk.get("kid") in self._keys:
                raise TokenKeyError(f"two keys in the JWKS share the kid {jwk['kid']!r}")
            self._keys[jwk["kid"]] = _ed25519(jwk, private=False)
        self.jwks = {"keys": [public_jwk(jwk) for jwk in keys]}
        self.audiences = list(audiences)
        # Tokens already verified, with the time they stop being valid: a client sends the same token with
        # every request for its whole life, and the signature check was the dearest step of an API call's own
        # work. Keyed by the whole token, signature included, so only the very bytes once verified are
        # answered from here; the keys never change in a running process (rotation restarts it).
        self._verified: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        remembered = self._verified.get(token)
        if remembered is not None:
            principal, valid_until = remembered
            if time.time() < valid_until:
                return principal
            self._verified.pop(token, None)  # expired: checked in full below, which refuses it as such
        principal, expires_at = self._check(token)
        if len(self._verified) >= VERIFIED_TOKENS_KEPT:
            self._verified.pop(next(iter(self._verified)), None)  # the oldest
        self._verified[token] = (principal, expires_at + LEEWAY_SECONDS)
        return principal

    @property
    def kids(self) -> list[str]:
        return list(self._keys)

    def _check(self, token: str) -> tuple[Principal, float]:
        """The token's principal and its expiry (`exp`), or InvalidToken."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.InvalidTokenError:
            raise InvalidToken("not a JWT") from None
        if header.get("alg") != ALGORITHM:
            raise InvalidToken(f"alg {header.get('alg')!r} is not accepted")
        key = self._keys.get(str(header.get("kid")))
        if key is None:
            raise InvalidToken("signed by a key not in the JWKS")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[ALGORITHM],
                issuer=ISSUER,
                audience=self.audiences,
                leeway=LEEWAY_SECONDS,
                options={"require": ["exp", "iat", "sub", "aud", "iss"]},
            )
            role = Role(claims["role"])
        except jwt.ExpiredSignatureError:
            raise InvalidToken("expired", expired=True) from None
        except (jwt.InvalidTokenError, KeyError, ValueError) as error:
            raise InvalidToken(str(error) or type(error).__name__) from None
        principal = Principal(
            client_id=claims["sub"], role=role, county=claims.get("county"), department=claims.get("department")
        )
        return principal, float(claims["exp"])


class TokenIssuer:
    """Signs agency tokens with the one private key of the issuer (the newest key; its public half must already
    be in the JWKS every service verifies with, else the tokens it signs would be refused everywhere)."""

    def __init__(
        self, signing_jwk: dict[str, Any], ttl_seconds: int = 900, published_kids: Iterable[str] | None = None
    ) -> None:
        self._key = _ed25519(signing_jwk, private=True)
        self.kid: str = signing_jwk["kid"]
        if published_kids is not None and self.kid not in set(published_kids):
            raise TokenKeyError(
                f"the signing key {self.kid!r} is not in ANXIN_TOKEN_JWKS: publish its public key to every service "
                "first, then switch the issuer to it (docs/operations.md, key rotation)"
            )
        self.public_jwk = public_jwk(signing_jwk)
        self.ttl_seconds = ttl_seconds

    def issue(self, principal: Principal, *, audiences: Sequence[str] = AUDIENCES, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": principal.client_id,
            "aud": list(audiences),
            "role": principal.role.value,
            "iat": issued,
            "nbf": issued,
            "exp": issued + self.ttl_seconds,
        }
        if principal.county:
            claims["county"] = principal.county
        if principal.department:
            claims["department"] = principal.department
        return jwt.encode(claims, self._key, algorithm=ALGORITHM, headers={"kid": self.kid})


if __name__ == "__main__":
    # `python -m services.common.token_keys [kid]`: a new signing key (for ANXIN_TOKEN_SIGNING_JWK, the issuer
    # only) and its public JWK (to add to ANXIN_TOKEN_JWKS everywhere first); see docs/operations.md.
    import sys

    made = new_signing_jwk(sys.argv[1] if len(sys.argv) > 1 else None)
    print(json.dumps({"signing_jwk": made, "public_jwk": public_jwk(made)}, indent=2))
