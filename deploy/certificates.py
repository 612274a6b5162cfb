"""Transport security of the cluster profile: a development CA, the engines' server certificate, the processes'
client certificate and the Kafka SCRAM credentials, made once per data dir into `<data dir>/tls/` (files 0600).

The cluster profile's engines speak only TLS to their clients: the Kafka brokers SASL_SSL with SCRAM-SHA-512,
Temporal's frontend TLS with client certificates required (mTLS), PostgreSQL TLS only (`hostssl`), every
client checking the server's name against the CA. One server certificate serves all three engines (they all
listen on 127.0.0.1: SAN IP 127.0.0.1 and DNS localhost), one client certificate every process. A deployment
uses certificates of its own CA, one per engine and per service, and never these (docs/deployment.md).

`ClusterTransport.process_env()` is what each process gets (ANXIN_KAFKA_*, ANXIN_TEMPORAL_TLS_*); a PostgreSQL
URL gets `sslmode=verify-full&sslrootcert=<ca>` from `postgres_query()`.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

# The name every client checks the engines' certificate against (a DNS SAN: the Temporal SDK wants a name).
SERVER_NAME = "localhost"
KAFKA_SASL_MECHANISM = "SCRAM-SHA-512"
# Who the processes are to the brokers, and who the brokers are to each other (inter-broker SASL_SSL).
KAFKA_CLIENT_USER = "anxin"
KAFKA_BROKER_USER = "anxin-broker"


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Anxin development"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _write_private(path: Path, data: bytes) -> None:
    path.touch(mode=0o600)
    path.chmod(0o600)  # also when the file was there before, or the umask widened it
    path.write_bytes(data)


def _pem_key(key: rsa.RSAPrivateKey) -> bytes:
    # PKCS#8, unencrypted: what Kafka's PEM key store, PostgreSQL, Go and the Temporal SDK all read.
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _pem_cert(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@dataclass(frozen=True)
class ClusterTransport:
    """The files and credentials of one cluster data dir, in `folder`. Nothing is read or written until they are
    used: `ensure()` makes what is missing (the engines call it as they start)."""

    folder: Path

    def ensure(self) -> ClusterTransport:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.chmod(0o700)
        if not self._credentials_path.exists():
            _write_private(
                self._credentials_path,
                json.dumps(
                    {
                        KAFKA_CLIENT_USER: secrets.token_urlsafe(24),
                        KAFKA_BROKER_USER: secrets.token_urlsafe(24),
                    }
                ).encode(),
            )
        if not all(
            path.exists()
            for path in (
                self.ca,
                self.server_cert,
                self.server_key,
                self.server_keystore,
                self.client_cert,
                self.client_key,
            )
        ):
            _make_certificates(self)
        return self

    @property
    def _credentials_path(self) -> Path:
        return self.folder / "kafka-scram.json"

    def kafka_password(self, user: str) -> str:
        """The SCRAM password of `user` (KAFKA_CLIENT_USER or KAFKA_BROKER_USER)."""
        self.ensure()
        password: str = json.loads(self._credentials_path.read_text())[user]
        return password

    @property
    def ca(self) -> Path:
        return self.folder / "ca.pem"

    @property
    def server_cert(self) -> Path:
        return self.folder / "server.pem"

    @property
    def server_key(self) -> Path:
        return self.folder / "server-key.pem"

    @property
    def server_keystore(self) -> Path:
        """Key and certificate in one file: a Kafka PEM key store (`ssl.keystore.type=PEM`)."""
        return self.folder / "server-keystore.pem"

    @property
    def client_cert(self) -> Path:
        return self.folder / "client.pem"

    @property
    def client_key(self) -> Path:
        return self.folder / "client-key.pem"

    def kafka_env(self) -> dict[str, str]:
        return {
            "ANXIN_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
            "ANXIN_KAFKA_SASL_MECHANISM": KAFKA_SASL_MECHANISM,
            "ANXIN_KAFKA_SASL_USERNAME": KAFKA_CLIENT_USER,
            "ANXIN_KAFKA_SASL_PASSWORD": self.kafka_password(KAFKA_CLIENT_USER),
            "ANXIN_KAFKA_SSL_CA": str(self.ca),
        }

    def temporal_env(self) -> dict[str, str]:
        self.ensure()
        return {
            "ANXIN_TEMPORAL_TLS_CA": str(self.ca),
            "ANXIN_TEMPORAL_TLS_CERT": str(self.client_cert),
            "ANXIN_TEMPORAL_TLS_KEY": str(self.client_key),
            "ANXIN_TEMPORAL_TLS_SERVER_NAME": SERVER_NAME,
        }

    def process_env(self) -> dict[str, str]:
        """How every process of the cluster profile reaches Kafka and Temporal (`TransportSettings`)."""
        return {**self.kafka_env(), **self.temporal_env()}

    def postgres_query(self) -> str:
        """The query of every PostgreSQL URL: TLS, the server's certificate checked against the CA and its name.
        The path is percent-encoded, so the URL has no `/` after its database name."""
        return f"sslmode=verify-full&sslrootcert={quote(str(self.ca), safe='')}"


def development_transport(data_dir: Path) -> ClusterTransport:
    """The transport files of a cluster data dir (made when first used, then kept)."""
    return ClusterTransport(data_dir / "tls")


def development_transport_env(data_dir: Path) -> dict[str, str]:
    """What a client of the stack whose data dir this is needs to reach its engines (the commands, the demo):
    the cluster profile's TLS settings when the data dir has them, else nothing (plain, `make run`)."""
    transport = development_transport(data_dir)
    return transport.process_env() if transport.ca.exists() else {}


def _make_certificates(transport: ClusterTransport) -> None:
    now = datetime.datetime.now(datetime.UTC)
    start = now - datetime.timedelta(minutes=5)  # a clock a little behind still accepts them
    ca_key = _key()
    ca_name = _name("Anxin development CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    def leaf(
        common_name: str, usages: list[x509.ObjectIdentifier], names: list[x509.GeneralName]
    ) -> tuple[rsa.RSAPrivateKey, x509.Certificate]:
        key = _key()
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name))
            .issuer_name(ca_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(now + datetime.timedelta(days=825))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    key_encipherment=True,
                    key_cert_sign=False,
                    crl_sign=False,
                    content_commitment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        return key, builder.sign(ca_key, hashes.SHA256())

    # The engines' certificate also authenticates a client: Temporal Server's own system worker presents it to
    # its frontend, which requires a client certificate from everyone.
    server_key, server_cert = leaf(
        "Anxin development engines",
        [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH],
        [x509.DNSName(SERVER_NAME), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
    )
    client_key, client_cert = leaf("anxin-processes", [ExtendedKeyUsageOID.CLIENT_AUTH], [])
    _write_private(transport.ca, _pem_cert(ca))
    _write_private(transport.server_cert, _pem_cert(server_cert))
    _write_private(transport.server_key, _pem_key(server_key))
    _write_private(transport.server_keystore, _pem_key(server_key) + _pem_cert(server_cert))
    _write_private(transport.client_cert, _pem_cert(client_cert))
    _write_private(transport.client_key, _pem_key(client_key))
