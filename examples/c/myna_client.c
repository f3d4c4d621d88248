/*
 * myna_client.c: a PC/SC client in C for a card served by `mynacard serve` (no Python involved).
 *
 * What a team testing its own card-reading software does against the emulator:
 *   1. read the user-authentication certificate (JPKI AP, EF 000A) and parse it (OpenSSL);
 *   2. lock the user-authentication PIN with wrong entries (63C2, 63C1, 63C0, then 6984);
 *   3. have it reset by running `mynacard pin reset CARD --pin user-auth` on the served card file
 *      (the serve process does it through its control channel; this connection stays open);
 *   4. see the full count on the very next empty VERIFY, verify the new PIN and sign a SHA-256
 *      DigestInfo with the user-authentication key (EF 0017), then check the signature against the
 *      certificate's public key.
 *
 * Usage: myna_client READER CARD_FILE MYNACARD
 *   READER     the PC/SC reader name, e.g. "Virtual PCD 00 00"
 *   CARD_FILE  the card file `mynacard serve` is serving
 *   MYNACARD   the mynacard command (e.g. .venv/bin/mynacard)
 * Environment: MYNA_USER_AUTH_PIN, the current user-authentication PIN (only used to pick wrong
 *   values that are surely wrong); MYNA_NEW_PIN, the 4-digit value the reset sets. Test cards only.
 * Exit status: 0 when every step gave the expected answer, 1 otherwise (the failing step is printed).
 *
 * APDUs and status words: ISO 7816-4 and the JPKI AP (card-interface.md sections 2 and 4).
 * Build: see build.sh beside this file (libpcsclite and libcrypto).
 */
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <winscard.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static const unsigned char SELECT_JPKI_AP[] = {0x00, 0xA4, 0x04, 0x0C, 0x0A, 0xD3, 0x92, 0xF0,
                                               0x00, 0x26, 0x01, 0x00, 0x00, 0x00, 0x01};
/* SHA-256 DigestInfo prefix (PKCS #1 v2.2, section 9.2 note 1). */
static const unsigned char SHA256_PREFIX[] = {0x30, 0x31, 0x30, 0x0D, 0x06, 0x09, 0x60, 0x86, 0x48,
                                              0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00, 0x04,
                                              0x20};

static SCARDHANDLE card;
static DWORD protocol;

static void fail(const char *step, const char *why)
{
    fprintf(stderr, "myna_client: %s: %s\n", step, why);
    exit(1);
}

/* Send one APDU; return SW1SW2, copy the data (without SW) into out (its length into out_len). */
static unsigned transmit(const unsigned char *apdu, size_t length, unsigned char *out,
                         size_t *out_len)
{
    unsigned char response[4096];
    DWORD response_len = sizeof response;
    const SCARD_IO_REQUEST *pci = protocol == SCARD_PROTOCOL_T1 ? SCARD_PCI_T1 : SCARD_PCI_T0;
    LONG rv = SCardTransmit(card, pci, apdu, (DWORD)length, NULL, response, &response_len);
    if (rv != SCARD_S_SUCCESS)
        fail("SCardTransmit", pcsc_stringify_error(rv));
    if (response_len < 2)
        fail("SCardTransmit", "response shorter than a status word");
    if (out != NULL && out_len != NULL) {
        memcpy(out, response, response_len - 2);
        *out_len = response_len - 2;
    }
    return ((unsigned)response[response_len - 2] << 8) | response[response_len - 1];
}

static void expect(const char *step, unsigned sw, unsigned expected)
{
    char why[64];
    if (sw != expected) {
        snprintf(why, sizeof why, "status word %04X, expected %04X", sw, expected);
        fail(step, why);
    }
    printf("%-44s %04X\n", step, sw);
}

static unsigned select_ef(unsigned fid)
{
    unsigned char apdu[] = {0x00, 0xA4, 0x02, 0x0C, 0x02, (unsigned char)(fid >> 8),
                            (unsigned char)fid};
    return transmit(apdu, sizeof apdu, NULL, NULL);
}

static unsigned verify(const char *pin)
{
    unsigned char apdu[5 + 16];
    size_t length = pin ? strlen(pin) : 0;
    memcpy(apdu, "\x00\x20\x00\x80", 4);
    if (length == 0)
        return transmit(apdu, 4, NULL, NULL); /* no data: asks for the count, spends nothing */
    apdu[4] = (unsigned char)length;
    memcpy(apdu + 5, pin, length);
    return transmit(apdu, 5 + length, NULL, NULL);
}

/* READ BINARY the current EF: a 4-byte DER header first, then chunks of at most 255 bytes. */
static size_t read_certificate(unsigned char *der, size_t capacity)
{
    unsigned char apdu[5] = {0x00, 0xB0, 0x00, 0x00, 0x04};
    size_t got = 0, size, chunk;
    expect("READ BINARY certificate header", transmit(apdu, 5, der, &chunk), 0x9000);
    if (chunk != 4 || der[0] != 0x30 || der[1] != 0x82)
        fail("certificate", "not a DER SEQUENCE with a 2-byte length");
    size = (((size_t)der[2] << 8) | der[3]) + 4;
    if (size > capacity)
        fail("certificate", "larger than the buffer");
    while (got < size) {
        size_t want = size - got > 255 ? 255 : size - got;
        apdu[2] = (unsigned char)(got >> 8);
        apdu[3] = (unsigned char)got;
        apdu[4] = (unsigned char)want;
        if (transmit(apdu, 5, der + got, &chunk) != 0x9000 || chunk == 0)
            fail("READ BINARY", "chunk refused");
        got += chunk;
    }
    return size;
}

/* Run MYNACARD pin reset CARD --pin user-auth with MYNACARD_NEW_PIN in its environment only. */
static void reset_through_mynacard(const char *mynacard, const char *card_file, const char *new_pin)
{
    int status;
    pid_t child = fork();
    if (child < 0)
        fail("fork", "cannot start mynacard");
    if (child == 0) {
        setenv("MYNACARD_NEW_PIN", new_pin, 1);
        execlp(mynacard, mynacard, "pin", "reset", card_file, "--pin", "user-auth", (char *)NULL);
        perror("myna_client: exec mynacard");
        _exit(127);
    }
    if (waitpid(child, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("mynacard pin reset", "did not succeed");
    printf("%-44s done\n", "mynacard pin reset (on the served card)");
}

int main(int argc, char **argv)
{
    SCARDCONTEXT context;
    LONG rv;
    unsigned char der[4096], message_digest[32], apdu[5 + 51 + 1], signature[512];
    size_t der_len, signature_len;
    unsigned sw, tries;
    char wrong[8];
    const char *current = getenv("MYNA_USER_AUTH_PIN"), *new_pin = getenv("MYNA_NEW_PIN");
    const char *message = "a message signed by a TEST card";

    setvbuf(stdout, NULL, _IOLBF, 0); /* lines in order with mynacard's, also into a pipe */
    if (argc != 4 || current == NULL || new_pin == NULL || strlen(current) != 4) {
        fprintf(stderr, "usage: MYNA_USER_AUTH_PIN=.... MYNA_NEW_PIN=.... %s READER CARD_FILE "
                        "MYNACARD\n", argv[0]);
        return 2;
    }
    rv = SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &context);
    if (rv != SCARD_S_SUCCESS)
        fail("SCardEstablishContext (is pcscd running?)", pcsc_stringify_error(rv));
    rv = SCardConnect(context, argv[1], SCARD_SHARE_SHARED, SCARD_PROTOCOL_T0 | SCARD_PROTOCOL_T1,
                      &card, &protocol);
    if (rv != SCARD_S_SUCCESS)
        fail("SCardConnect", pcsc_stringify_error(rv));
    printf("connected to '%s'\n", argv[1]);

    /* 1. The user-authentication certificate, free to read. */
    expect("SELECT JPKI AP", transmit(SELECT_JPKI_AP, sizeof SELECT_JPKI_AP, NULL, NULL), 0x9000);
    expect("SELECT EF 000A (user-auth certificate)", select_ef(0x000A), 0x9000);
    der_len = read_certificate(der, sizeof der);
    const unsigned char *cursor = der;
    X509 *certificate = d2i_X509(NULL, &cursor, (long)der_len);
    if (certificate == NULL)
        fail("certificate", "OpenSSL cannot parse it");
    char subject[256];
    X509_NAME_oneline(X509_get_subject_name(certificate), subject, sizeof subject);
    printf("certificate: %zu bytes, subject %s\n", der_len, subject);

    /* 2. Lock the user-authentication PIN with wrong entries. */
    expect("SELECT EF 0018 (user-auth PIN)", select_ef(0x0018), 0x9000);
    snprintf(wrong, sizeof wrong, "%04u", (unsigned)(atoi(current) + 1) % 10000u);
    sw = verify(NULL);
    if ((sw & 0xFFF0) != 0x63C0)
        fail("empty VERIFY", "no count");
    tries = sw & 0x0F;
    while (tries > 0) {
        sw = verify(wrong);
        expect("VERIFY wrong PIN", sw, 0x63C0 | (tries - 1));
        tries--;
    }
    expect("VERIFY (locked: even a right value)", verify(current), 0x6984);

    /* 3. The issuer's reset, through the served card's control channel. */
    reset_through_mynacard(argv[3], argv[2], new_pin);

    /* 4. Seen at once on this connection; verify the new PIN, sign, check the signature. */
    expect("empty VERIFY after the reset: 3 tries", verify(NULL), 0x63C3);
    expect("VERIFY new PIN", verify(new_pin), 0x9000);
    expect("SELECT EF 0017 (user-auth key)", select_ef(0x0017), 0x9000);
    if (!EVP_Digest(message, strlen(message), message_digest, NULL, EVP_sha256(), NULL))
        fail("SHA-256", "OpenSSL failed");
    memcpy(apdu, "\x80\x2A\x00\x80", 4);
    apdu[4] = (unsigned char)(sizeof SHA256_PREFIX + sizeof message_digest);
    memcpy(apdu + 5, SHA256_PREFIX, sizeof SHA256_PREFIX);
    memcpy(apdu + 5 + sizeof SHA256_PREFIX, message_digest, sizeof message_digest);
    apdu[5 + apdu[4]] = 0x00; /* Le: 256 bytes */
    expect("COMPUTE DIGITAL SIGNATURE", transmit(apdu, 6 + apdu[4], signature, &signature_len),
           0x9000);

    EVP_PKEY *key = X509_get_pubkey(certificate);
    EVP_MD_CTX *check = EVP_MD_CTX_new();
    if (key == NULL || check == NULL || EVP_DigestVerifyInit(check, NULL, EVP_sha256(), NULL, key) != 1
        || EVP_DigestVerify(check, signature, signature_len, (const unsigned char *)message,
                            strlen(message)) != 1)
        fail("signature", "does not verify with the certificate's public key");
    printf("signature: %zu bytes, verified with the certificate's public key\n", signature_len);

    EVP_MD_CTX_free(check);
    EVP_PKEY_free(key);
    X509_free(certificate);
    SCardDisconnect(card, SCARD_UNPOWER_CARD);
    SCardReleaseContext(context);
    printf("ok\n");
    return 0;
}
