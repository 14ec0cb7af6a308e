#!/usr/bin/env python3
"""Generates test/fixtures/authVectors.ts: authentication vectors computed independently of the
package's TypeScript code, with Python's hashlib, a small from-the-RFC Ed25519 written here, and the
openssl CLI (RSA key generation, Ed25519 signature verification).

    python3 packages/protocol/scripts/auth-vectors.py > packages/protocol/test/fixtures/authVectors.ts

Deterministic except for the RSA key pair (regenerated on every run)."""
import base64
import hashlib
import json
import os
import subprocess
import tempfile


def h(b):
    return b.hex()


def xor(a, b):
    return bytes(x ^ b[i % len(b)] for i, x in enumerate(a))


def sha1(*p):
    return hashlib.sha1(b"".join(p)).digest()


def sha256(*p):
    return hashlib.sha256(b"".join(p)).digest()


def sha512(*p):
    return hashlib.sha512(b"".join(p)).digest()


# --- Ed25519 over plain integers (RFC 8032 §5.1) ------------------------------------------------
P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = (-121665 * pow(121666, P - 2, P)) % P
GY = 4 * pow(5, P - 2, P) % P


def recover_x(y, sign):
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * pow(2, (P - 1) // 4, P) % P
    if x % 2 != sign:
        x = P - x
    return x


G = (recover_x(GY, 0), GY)


def add(p1, p2):
    (x1, y1), (x2, y2) = p1, p2
    t = D * x1 * x2 * y1 * y2 % P
    x3 = (x1 * y2 + x2 * y1) * pow(1 + t, P - 2, P) % P
    y3 = (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P
    return (x3, y3)


def mul(k, pt):
    acc = (0, 1)
    while k:
        if k & 1:
            acc = add(acc, pt)
        pt = add(pt, pt)
        k >>= 1
    return acc


def enc(pt):
    x, y = pt
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def ed25519_mariadb(password, nonce):
    hh = sha512(password)
    a = bytearray(hh[:32])
    a[0] &= 248
    a[31] &= 127
    a[31] |= 64
    s = int.from_bytes(a, "little")
    A = enc(mul(s, G))
    r = int.from_bytes(sha512(hh[32:], nonce), "little") % L
    R = enc(mul(r, G))
    k = int.from_bytes(sha512(R, A, nonce), "little") % L
    S = (r + k * s) % L
    return A, R + S.to_bytes(32, "little")


def openssl_verify_ed25519(public_key, message, signature):
    spki = bytes.fromhex("302a300506032b6570032100") + public_key
    with tempfile.TemporaryDirectory() as d:
        pem = os.path.join(d, "pub.pem")
        with open(pem, "w") as f:
            f.write("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(spki).decode() + "\n-----END PUBLIC KEY-----\n")
        with open(os.path.join(d, "msg"), "wb") as f:
            f.write(message)
        with open(os.path.join(d, "sig"), "wb") as f:
            f.write(signature)
        out = subprocess.run(
            ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", pem, "-rawin", "-in", os.path.join(d, "msg"),
             "-sigfile", os.path.join(d, "sig")], capture_output=True, text=True)
        assert "Signature Verified Successfully" in out.stdout, out
    return True


# Nonces: fixed bytes so the vectors are reproducible.
nonce20 = bytes((i * 37 + 11) % 256 for i in range(20))
nonce20b = bytes.fromhex("223d4e50297539562964405 25c5578 7a7c21294b".replace(" ", ""))
nonce32 = bytes((i * 13 + 5) % 256 for i in range(32))
passwords = ["secret", "pässwörd😀", "x" * 200, ""]

native = []
for pw in passwords:
    b = pw.encode()
    if b:
        stage1 = sha1(b)
        resp = xor(stage1, sha1(nonce20, sha1(stage1)))
        stored = sha1(stage1)
    else:
        resp = b""
        stored = b""
    native.append({"password": pw, "nonce": h(nonce20), "response": h(resp), "storedHash": h(stored)})
# the seed's greeting nonce
native.append({"password": "root", "nonce": h(nonce20b), "response": h(xor(sha1(b"root"), sha1(nonce20b, sha1(sha1(b"root"))))),
               "storedHash": h(sha1(sha1(b"root")))})

sha2 = []
for pw in passwords:
    b = pw.encode()
    resp = xor(sha256(b), sha256(sha256(sha256(b)), nonce20)) if b else b""
    sha2.append({"password": pw, "nonce": h(nonce20), "response": h(resp), "cacheEntry": h(sha256(sha256(b))),
                 "rsaPlaintext": h(xor(b + b"\0", nonce20))})

ed = []
for pw in passwords:
    A, sig = ed25519_mariadb(pw.encode(), nonce32)
    openssl_verify_ed25519(A, nonce32, sig)
    ed.append({"password": pw, "nonce": h(nonce32), "publicKey": h(A), "publicKeyBase64": base64.b64encode(A).decode().rstrip("="),
               "signature": h(sig)})

with tempfile.TemporaryDirectory() as d:
    key = os.path.join(d, "key.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key], check=True, capture_output=True)
    private_pkcs8 = open(key).read()
    spki_pem = subprocess.run(["openssl", "pkey", "-in", key, "-pubout"], check=True, capture_output=True, text=True).stdout
    pkcs1_pem = subprocess.run(["openssl", "rsa", "-in", key, "-RSAPublicKey_out"], check=True, capture_output=True, text=True).stdout

print("// Generated by packages/protocol/scripts/auth-vectors.py; do not edit.\nexport const authVectors = " + json.dumps({
    "generatedBy": "python3 packages/protocol/scripts/auth-vectors.py (hashlib; Ed25519 from RFC 8032 arithmetic, each signature checked with `openssl pkeyutl -verify -rawin`; RSA keys from `openssl genpkey`)",
    "mysqlNativePassword": native,
    "cachingSha2Password": sha2,
    "clientEd25519": ed,
    "rsa": {"privateKeyPkcs8Pem": private_pkcs8, "publicKeySpkiPem": spki_pem, "publicKeyPkcs1Pem": pkcs1_pem},
}, indent=2, ensure_ascii=False) + " as const")
