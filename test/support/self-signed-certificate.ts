import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const execFileAsync = promisify(execFile)

/** A fresh P-256 key and its self-signed certificate, as PEM, plus the certificate's file. */
export interface SelfSignedCertificate {
  keyPem: string
  certificatePem: string
  /** The certificate on disk (inside `directory`), for programs that read files. */
  certificatePath: string
  /** Removes the files. */
  remove(): Promise<void>
}

/**
 * Makes a key and a one-day self-signed certificate with the `openssl` command, so tests need no
 * committed private key. Throws with the package to install when `openssl` is missing.
 */
export async function createSelfSignedCertificate(options: {
  commonName: string
  /** e.g. `DNS:registry.invalid` */
  subjectAltName?: string
}): Promise<SelfSignedCertificate> {
  const directory = await mkdtemp(join(tmpdir(), 'self-signed-'))
  const keyPath = join(directory, 'key.pem')
  const certificatePath = join(directory, 'certificate.pem')
  const extensions = options.subjectAltName ? ['-addext', `subjectAltName=${options.subjectAltName}`] : []
  try {
    await execFileAsync('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${options.commonName}`,
      ...extensions,
      '-keyout',
      keyPath,
      '-out',
      certificatePath,
    ])
  } catch (error) {
    await rm(directory, { recursive: true, force: true })
    throw new Error('could not create a test certificate: install `openssl` (apt-get install -y openssl)', {
      cause: error,
    })
  }
  return {
    keyPem: await readFile(keyPath, 'utf8'),
    certificatePem: await readFile(certificatePath, 'utf8'),
    certificatePath,
    remove: () => rm(directory, { recursive: true, force: true }),
  }
}
