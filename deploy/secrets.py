"""Development secrets for a local stack: data keys, the token keys, agency clients, database passwords,
the codec server's path secret.

The data keys are one ring per purpose (services/common/data_keys.py), and each process is given only the
rings it uses (`process_keys`). A data dir made when one shared ring sealed everything keeps it
(`ANXIN_DATA_KEYS`): its processes still open what it sealed and seal new data with their purpose's key.

Made once per data dir and kept there (`development-secrets.json`, `clients.json` with hashed secrets,
`development-clients.json` with the clear secrets a developer uses to get tokens, `token-signing-jwk.json` with
the issuer's private key and `token-jwks.json` with its public key set). Real deployments provide their own
through the environment and never use these.

As in a deployment, the signing key and the registered clients go to the token issuer alone
(`development_issuer_environment`); every other process gets `development_environment`, without them.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import time
from collections.abc import Iterable
from pathlib import Path

from services.common.auth import Role, hash_secret
from services.common.crypto import new_key
from services.common.data_keys import SHARED_RING_PURPOSES, KeyPurpose, key_env_names
from services.common.token_keys import TokenIssuer, new_signing_jwk, public_jwk

# One client per role, scoped as a real one would be: counties are Handan's 邯山区 and 丛台区,
# departments use the identifiers of the referrals service's department list.
DEVELOPMENT_CLIENTS: list[dict[str, str | None]] = [
    {"client_id": "clerk-130402", "role": Role.intake_clerk, "county": "130402"},
    {"client_id": "inspector-130402", "role": Role.county_inspector, "county": "130402"},
    {"client_id": "inspector-130403", "role": Role.county_inspector, "county": "130403"},
    {"client_id": "bureau-head-130402", "role": Role.bureau_head, "county": "130402"},
    {"client_id": "bureau-head-130403", "role": Role.bureau_head, "county": "130403"},
    {"client_id": "city-office", "role": Role.city_office},
    {"client_id": "dept-housing", "role": Role.department, "department": "housing"},
    {"client_id": "dept-transport", "role": Role.department, "department": "transport"},
    {"client_id": "police", "role": Role.police},
    {"client_id": "procuratorate", "role": Role.procuratorate},
    {"client_id": "court", "role": Role.court},
    {"client_id": "arbitration", "role": Role.arbitration},
    {"client_id": "legal-aid", "role": Role.legal_aid},
    {"client_id": "credit-system", "role": Role.credit_system},
    {"client_id": "operator", "role": Role.operator},
    # The lifecycle worker's own client: the only caller of the services' lifecycle endpoints.
    {"client_id": "lifecycle-worker", "role": Role.lifecycle},
    # The web console's own client: asks the issuer for a signed-in person's token, and can do nothing itself.
    {"client_id": "console", "role": Role.console},
]


# What only the token issuer reads (services/issuer): the private key it signs with and the registered clients.
ISSUER_ONLY = ("ANXIN_TOKEN_SIGNING_JWK", "ANXIN_CLIENTS_FILE")


def development_environment(data_dir: Path) -> dict[str, str]:
    """The secret settings every process of a local stack gets, made on first use; the issuer's own are in
    `development_issuer_environment`."""
    return {name: value for name, value in _development_secrets(data_dir).items() if name not in ISSUER_ONLY}


def development_issuer_environment(data_dir: Path) -> dict[str, str]:
    """What the token issuer of a local stack gets beside `development_environment`: its signing key and the
    registered clients file."""
    loaded = _development_secrets(data_dir)
    return {name: loaded[name] for name in ISSUER_ONLY}


def _development_secrets(data_dir: Path) -> dict[str, str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "development-secrets.json"
    clients_path = data_dir / "clients.json"
    if not path.exists() or not clients_path.exists():
        env = {
            "ANXIN_REFERENCE_KEY": new_key(),
            "ANXIN_CLIENTS_FILE": str(clients_path),
        }
        _write_private(clients_path, [])
        _write_private(data_dir / "development-clients.json", [])
        _write_private(path, env)
    _add_purpose_keys(path)
    _add_token_keys(data_dir)
    _register_missing_clients(data_dir)
    loaded: dict[str, str] = json.loads(path.read_text())
    return {**loaded, "ANXIN_CODEC_PATH_TOKEN": codec_path_token(data_dir)}


# Per data dir, for this process: the token it made, should the data dir be read-only.
_CODEC_PATH_TOKENS: dict[Path, str] = {}


def codec_path_token(data_dir: Path) -> str:
    """The codec server's path secret (ANXIN_CODEC_PATH_TOKEN): from the environment when set (an
    installation's own), else made once per data dir. Kept in a file of its own, made without the other
    secrets, because the launcher puts it in the UI's codec endpoint when it builds the stack, before it
    makes anything else — and a stack is also built, never started, by every `anxin` command, which may run
    where the data dir is read-only (a container): there the token lives for that process only."""
    if os.environ.get("ANXIN_CODEC_PATH_TOKEN"):
        return os.environ["ANXIN_CODEC_PATH_TOKEN"]
    path = data_dir / "codec-path-token"
    if path.exists():
        token: str = json.loads(path.read_text())
        return token
    token = _CODEC_PATH_TOKENS.setdefault(data_dir, secrets.token_urlsafe(32))
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        _write_private(path, token)
    except OSError:
        pass
    return token


def _add_purpose_keys(path: Path) -> None:
    """A key ring per purpose, in a secrets file that has none yet (a new one, or one made when one shared
    ring sealed everything: that ring stays, to open what it sealed)."""
    env: dict[str, str] = json.loads(path.read_text())
    missing = [purpose for purpose in KeyPurpose if purpose.keys_env not in env]
    if not missing:
        return
    for purpose in missing:
        key_id = time.strftime(f"{purpose.value}-dev-%Y%m%d")
        env |= {purpose.keys_env: json.dumps({key_id: new_key()}), purpose.key_id_env: key_id}
    _write_private(path, env)


def purposes_of(process: str) -> set[KeyPurpose]:
    """The data key rings a process uses: the payload ring for every process that talks to Temporal (all but
    the relays, the token issuer and the console), the intake ring for intake's API (its sealed columns and
    evidence), the sanctions ring for sanctions' API and worker (its sealed documents), the issuer ring for the
    token issuer (people's TOTP secrets), the console ring for the console (the tokens in its sessions), none for
    the webhooks service's processes (they pass on events as they are sealed, and talk to no workflow). The
    monitoring API holds the payload ring only: its register holds no personal data and its feeds hold workers
    by keyed reference only, but the city office's decisions on payouts are Updates of their workflows. A cluster
    replica (`intake-api-2`) is its process."""
    name = re.sub(r"-\d+$", "", process)
    if name == "issuer-api":
        return {KeyPurpose.ISSUER}
    if name == "console":
        return {KeyPurpose.CONSOLE}
    if name.endswith("-relay") or name in ("webhooks-api", "webhooks-dispatcher"):
        return set()
    return (
        {KeyPurpose.PAYLOAD}
        | ({KeyPurpose.INTAKE} if name == "intake-api" else set())
        | ({KeyPurpose.SANCTIONS} if name in ("sanctions-api", "sanctions-worker") else set())
    )


def process_keys(process: str, env: dict[str, str]) -> dict[str, str]:
    """`env` without the data keys `process` does not use: the other purposes' rings, and the shared ring of
    before for a process that opens nothing it sealed."""
    kept = purposes_of(process)
    dropped = key_env_names() - {name for purpose in kept for name in key_env_names(purpose)}
    if kept & SHARED_RING_PURPOSES:
        dropped -= {"ANXIN_DATA_KEYS", "ANXIN_DATA_KEY_ID"}
    return {name: value for name, value in env.items() if name not in dropped}


def _add_token_keys(data_dir: Path) -> None:
    """The issuer's Ed25519 key and the JWKS, in a data dir that has none yet (a new one, or one made when tokens
    were HS256: its old key is dropped, so no process is left holding it)."""
    path = data_dir / "development-secrets.json"
    env: dict[str, str] = json.loads(path.read_text())
    if "ANXIN_TOKEN_JWKS" in env:
        return
    signing = new_signing_jwk(kid=time.strftime("dev-%Y%m%d"))
    signing_path, jwks_path = data_dir / "token-signing-jwk.json", data_dir / "token-jwks.json"
    _write_private(signing_path, signing)
    jwks_path.write_text(json.dumps({"keys": [public_jwk(signing)]}, indent=2))
    env.pop("ANXIN_TOKEN_SIGNING_KEY", None)
    env |= {
        "ANXIN_TOKEN_JWKS": str(jwks_path),
        "ANXIN_TOKEN_SIGNING_JWK": str(signing_path),
        # Development sessions and test runs keep one token for an hour; a deployment keeps the short default.
        "ANXIN_TOKEN_TTL_SECONDS": "3600",
    }
    _write_private(path, env)


def development_token_issuer(data_dir: Path) -> TokenIssuer:
    """An issuer with the development stack's signing key (tests mint tokens of any role with it)."""
    return TokenIssuer(json.loads((data_dir / "token-signing-jwk.json").read_text()), ttl_seconds=3600)


def _register_missing_clients(data_dir: Path) -> None:
    """Register the development clients a data dir does not have yet (all of them the first time; a client
    added to the project later, in a data dir made before it)."""
    clients_path = data_dir / "clients.json"
    clear_path = data_dir / "development-clients.json"
    registered: list[dict[str, str | None]] = json.loads(clients_path.read_text())
    clear: list[dict[str, str | None]] = json.loads(clear_path.read_text())
    known = {row["client_id"] for row in registered} & {row["client_id"] for row in clear}
    missing = [client for client in DEVELOPMENT_CLIENTS if client["client_id"] not in known]
    if not missing:
        return
    ids = {client["client_id"] for client in missing}
    registered = [row for row in registered if row["client_id"] not in ids]
    clear = [row for row in clear if row["client_id"] not in ids]
    for client in missing:
        secret = secrets.token_urlsafe(24)
        clear.append({**client, "role": str(client["role"]), "client_secret": secret})
        registered.append({**client, "role": str(client["role"]), "secret_hash": hash_secret(secret)})
    _write_private(clients_path, registered)
    _write_private(clear_path, clear)


def development_clients(data_dir: Path) -> dict[str, dict[str, str]]:
    """client id → {client_secret, role, ...} of the development clients (after `development_environment`)."""
    rows = json.loads((data_dir / "development-clients.json").read_text())
    return {row["client_id"]: row for row in rows}


def database_passwords(data_dir: Path, roles: Iterable[str]) -> dict[str, str]:
    """role → password of a password-authenticated development PostgreSQL (the superuser, the migration
    role, each service's runtime role), made once per data dir and kept there (mode 0600). URL-safe, so
    they go into connection URLs as they are."""
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / "database-passwords.json"
    passwords: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    missing = [role for role in roles if role not in passwords]
    if missing:
        passwords.update({role: secrets.token_urlsafe(24) for role in missing})
        _write_private(path, passwords)
    return passwords


def _write_private(path: Path, content: object) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)  # also when the file was there before, or the umask widened it
    path.write_text(json.dumps(content, indent=2, ensure_ascii=False))
