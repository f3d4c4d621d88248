#!/usr/bin/env python3
"""Sign with a My Number Card's JPKI key through OpenSC's PKCS#11 module, then verify the signature.

Drives `pkcs11-tool` (Debian package opensc) exactly as a user would: log in to the slot of the
chosen PIN, sign with SHA256-RSA-PKCS, read the matching certificate, verify with `cryptography`.
OpenSC gives each JPKI PIN its own slot (opensc-jpki.md §5):
  --key auth → token "JPKI (User Authentication PIN)", key id 01, the 4-digit PIN
  --key sign → token "JPKI (Digital Signature PIN)", key id 02, the signing password
The PIN is read from the environment variable named by --pin-env (passed on as `--pin env:VAR`, so
it never appears in a process list), or asked for.

    scripts/pcsc-stack.sh start; mynacard serve &
    MYNA_PIN=1234 .venv/bin/python examples/sign_with_opensc_pkcs11.py --key auth --pin-env MYNA_PIN
"""

from __future__ import annotations

import argparse
import getpass
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

MODULE_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/aarch64-linux-gnu/opensc-pkcs11.so",
    "/usr/lib/opensc-pkcs11.so",
    "/usr/lib64/opensc-pkcs11.so",
)
KEYS = {
    "auth": ("JPKI (User Authentication PIN)", "01"),
    "sign": ("JPKI (Digital Signature PIN)", "02"),
}
PIN_VARIABLE = "MYNACARD_EXAMPLE_PIN"  # what this script hands to pkcs11-tool


def find_module() -> str:
    for candidate in MODULE_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    raise SystemExit("opensc-pkcs11.so not found: apt-get install opensc-pkcs11, or use --module")


def pkcs11_tool(module: str, token: str, *args: str, pin: str | None = None) -> None:
    argv = ["pkcs11-tool", "--module", module, "--token-label", token, *args]
    env = dict(os.environ)
    if pin is not None:
        env[PIN_VARIABLE] = pin
        argv += ["--login", "--pin", f"env:{PIN_VARIABLE}"]
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise SystemExit(f"pkcs11-tool failed ({result.returncode}): {result.stderr.strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--key", choices=sorted(KEYS), default="auth")
    parser.add_argument("--pin-env", metavar="VAR", help="variable holding the PIN (else: prompt)")
    parser.add_argument(
        "--message", default="Hello from a TEST My Number Card", help="text to sign"
    )
    parser.add_argument("--module", help="path of opensc-pkcs11.so")
    args = parser.parse_args()

    module = args.module or find_module()
    token, key_id = KEYS[args.key]
    pin = os.environ.get(args.pin_env) if args.pin_env else None
    if not pin:
        pin = getpass.getpass(f"PIN for {token}: ")
    if args.key == "sign":
        pin = pin.upper()  # the signing password is upper case (card-interface.md §10.1)

    with tempfile.TemporaryDirectory(prefix="jpki-sign-") as tmp:
        message, signature, certificate = (Path(tmp) / n for n in ("msg", "sig", "cert.der"))
        message.write_bytes(args.message.encode())
        sign = ["--sign", "--id", key_id, "-m", "SHA256-RSA-PKCS"]
        pkcs11_tool(module, token, *sign, "-i", str(message), "-o", str(signature), pin=pin)
        # The signing certificate is private (needs the login); the auth one is not, log in anyway.
        read = ["--read-object", "--type", "cert", "--id", key_id, "-o", str(certificate)]
        pkcs11_tool(module, token, *read, pin=pin)
        cert = x509.load_der_x509_certificate(certificate.read_bytes())
        public_key = cert.public_key()
        assert isinstance(public_key, rsa.RSAPublicKey)
        sig = signature.read_bytes()

    print(f"token:       {token} (key id {key_id})")
    print(f"certificate: {cert.subject.rfc4514_string()}")
    print(f"signature:   {len(sig)} bytes, {sig[:8].hex()}…")
    try:
        public_key.verify(sig, args.message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        print("verification: FAILED")
        sys.exit(1)
    print("verification: OK (sha256WithRSAEncryption, PKCS#1 v1.5)")


if __name__ == "__main__":
    main()
