// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/**
 * Certificates made at start, in memory: a small certificate authority and the HTTPS server's
 * certificate (EC P-256, valid for localhost and 127.0.0.1), and RSA client certificates for apps that
 * sign client assertions (MSAL signs them with RS256 or PS256, so those keys must be RSA).
 */

x509.cryptoProvider.set(webcrypto as ReturnType<typeof x509.cryptoProvider.get>);

type CryptoKey = webcrypto.CryptoKey;

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const RSA = {
  name: 'RSASSA-PKCS1-v1_5',
  hash: 'SHA-256',
  publicExponent: new Uint8Array([1, 0, 1]),
  modulusLength: 2048,
} as const;

export interface ServerCertificate {
  /** PEM of the certificate authority a client must trust. */
  readonly ca: string;
  /** PEM of the server certificate (issued by `ca`). */
  readonly cert: string;
  /** PEM (PKCS#8) of the server's private key. */
  readonly key: string;
}

function serial(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(12)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

function validity(days: number): { notBefore: Date; notAfter: Date } {
  // Back-date by an hour: a client whose clock runs slightly behind must not see a future certificate.
  return { notBefore: new Date(Date.now() - 3_600_000), notAfter: new Date(Date.now() + days * 86_400_000) };
}

async function privateKeyPem(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

/** A fresh certificate authority and a localhost server certificate it issued. */
export async function createServerCertificate(): Promise<ServerCertificate> {
  const caKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: 'CN=Entra Simulator Test CA, O=EntraSync tests',
    ...validity(30),
    keys: caKeys,
    signingAlgorithm: EC,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  const serverKeys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: 'CN=localhost',
    issuer: ca.subject,
    ...validity(30),
    signingKey: caKeys.privateKey,
    publicKey: serverKeys.publicKey,
    signingAlgorithm: EC,
    extensions: [
      new x509.SubjectAlternativeNameExtension([
        { type: 'dns', value: 'localhost' },
        { type: 'ip', value: '127.0.0.1' },
      ]),
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });
  return {
    ca: ca.toString('pem'),
    cert: cert.toString('pem'),
    key: await privateKeyPem(serverKeys.privateKey),
  };
}

export interface ClientCertificate {
  /** PEM of the self-signed certificate, to register on an app. */
  readonly certificate: string;
  /** PEM (PKCS#8) of the private key. */
  readonly privateKey: string;
  /** Certificate and key in one PEM, as ClientCertificateCredential takes it (`certificate`). */
  readonly pem: string;
  /** SHA-1 thumbprint, upper-case hex, as the Entra portal shows it. */
  readonly thumbprint: string;
}

/** A self-signed RSA client certificate, as an app registration's certificate credential. */
export async function createClientCertificate(
  subject = 'CN=EntraSync test client',
): Promise<ClientCertificate> {
  const keys = await webcrypto.subtle.generateKey(RSA, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: subject,
    ...validity(30),
    keys,
    signingAlgorithm: RSA,
    extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  const certificate = cert.toString('pem');
  const privateKey = await privateKeyPem(keys.privateKey);
  return {
    certificate,
    privateKey,
    pem: `${certificate}\n${privateKey}`,
    thumbprint: thumbprints(certificate).sha1Hex,
  };
}

export interface Thumbprints {
  readonly sha1Hex: string;
  /** base64url of the SHA-1 digest: the JWT `x5t` header. */
  readonly x5t: string;
  /** base64url of the SHA-256 digest: the JWT `x5t#S256` header. */
  readonly x5tS256: string;
}

export function thumbprints(certificatePem: string): Thumbprints {
  const der = Buffer.from(new x509.X509Certificate(certificatePem).rawData);
  const sha1 = createHash('sha1').update(der).digest();
  return {
    sha1Hex: sha1.toString('hex').toUpperCase(),
    x5t: sha1.toString('base64url'),
    x5tS256: createHash('sha256').update(der).digest('base64url'),
  };
}
