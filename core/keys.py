"""SSH key material: parsing, generating and fingerprinting, through asyncssh, in memory only."""

from __future__ import annotations

from dataclasses import dataclass

import asyncssh

from core.errors import UsageError


@dataclass(frozen=True)
class KeyMaterial:
    """A private key in OpenSSH form with its public half; `repr` never shows the private part."""

    private: str
    public: str
    fingerprint: str

    def __repr__(self) -> str:
        return f"KeyMaterial(fingerprint={self.fingerprint!r})"


def parse_private_key(text: str, *, source: str, passphrase: str | None = None) -> KeyMaterial:
    """Read a private key; `source` names it in errors (a file path, an env var)."""
    try:
        key = asyncssh.import_private_key(text, passphrase)
    except asyncssh.KeyImportError as exc:
        if "passphrase" in str(exc).lower():
            raise UsageError(
                f"key {source} is encrypted: give its passphrase with --passphrase-env VAR"
            ) from exc
        raise UsageError(f"key {source} is not a private key") from exc
    return _material(key)


def generate_key(comment: str) -> KeyMaterial:
    """A new ed25519 key pair."""
    return _material(asyncssh.generate_private_key("ssh-ed25519", comment=comment))


def _material(key: asyncssh.SSHKey) -> KeyMaterial:
    return KeyMaterial(
        private=key.export_private_key("openssh").decode(),
        public=key.export_public_key("openssh").decode().strip(),
        fingerprint=key.get_fingerprint("sha256"),
    )


def load_private_key(private: str) -> asyncssh.SSHKey:
    """An asyncssh key object from decrypted OpenSSH text (never written to a file)."""
    return asyncssh.import_private_key(private)


def host_key_line(address: str, port: int, key: asyncssh.SSHKey) -> str:
    """A known_hosts line that pins `key` for `address:port`."""
    host = address if port == 22 else f"[{address}]:{port}"
    return f"{host} {key.export_public_key('openssh').decode().strip()}"


def parse_host_key_line(line: str) -> asyncssh.SSHKey:
    """The public key of a known_hosts line (`host keytype base64`) or a bare public key."""
    parts = line.split()
    for start in range(len(parts)):
        candidate = " ".join(parts[start : start + 2])
        try:
            return asyncssh.import_public_key(candidate)
        except (asyncssh.KeyImportError, ValueError):
            continue
    raise UsageError("host key is not a known_hosts line or an SSH public key")
