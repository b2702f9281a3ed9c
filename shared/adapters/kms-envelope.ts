import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { DecryptCommand, GenerateDataKeyCommand, type KMSClient } from '@aws-sdk/client-kms'
import type { SealedSecret, SecretContext, SecretOpener, SecretSealer } from '../domain/ports.ts'
import { translateAwsError } from './aws-errors.ts'

/** The `purpose` every envelope's encryption context carries; IAM conditions pin roles to it. */
export const SECRET_PURPOSE = 'docker-registry-secret'

const ALGORITHM = 'aes-256-gcm'
const IV_BYTES = 12
const TAG_BYTES = 16

/**
 * The KMS encryption context of a secret. KMS binds it to the wrapped data key, and we bind it
 * to the ciphertext as AAD, so an envelope copied into another company's item cannot be opened.
 */
export function secretEncryptionContext(context: SecretContext): Record<string, string> {
  return {
    company_id: context.companyId,
    credential_id: context.credentialId,
    purpose: SECRET_PURPOSE,
  }
}

// keys sorted so the AAD does not depend on object insertion order.
function additionalData(encryptionContext: Record<string, string>): Buffer {
  const sorted = Object.keys(encryptionContext)
    .sort()
    .map((key) => [key, encryptionContext[key]])
  return Buffer.from(JSON.stringify(sorted), 'utf8')
}

/** Options of the KMS envelope. */
export interface KmsEnvelopeOptions {
  kms: KMSClient
  /** ARN (or alias) of the secrets key. */
  keyId: string
}

/**
 * Seals secrets with one KMS data key each: GenerateDataKey, AES-256-GCM in process with the
 * encryption context as AAD, then the plaintext data key is wiped.
 */
export function createKmsSealer({ kms, keyId }: KmsEnvelopeOptions): SecretSealer {
  return {
    async seal(plaintext: string, context: SecretContext): Promise<SealedSecret> {
      const encryptionContext = secretEncryptionContext(context)
      const dataKey = await kms
        .send(
          new GenerateDataKeyCommand({
            KeyId: keyId,
            KeySpec: 'AES_256',
            EncryptionContext: encryptionContext,
          }),
        )
        .catch(translateAwsError('KMS'))
      if (!dataKey.Plaintext || !dataKey.CiphertextBlob || !dataKey.KeyId) {
        throw new Error('KMS GenerateDataKey returned an incomplete response')
      }
      try {
        const iv = randomBytes(IV_BYTES)
        const cipher = createCipheriv(ALGORITHM, dataKey.Plaintext, iv, { authTagLength: TAG_BYTES })
        cipher.setAAD(additionalData(encryptionContext))
        const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()])
        return {
          version: 1,
          keyId: dataKey.KeyId,
          encryptedKey: dataKey.CiphertextBlob,
          iv,
          tag: cipher.getAuthTag(),
          ciphertext,
        }
      } finally {
        // zero our copy of the plaintext data key once used (threat: a later bug or heap dump
        // reading a stale buffer); the SDK's and the cipher's internal copies are out of reach.
        dataKey.Plaintext.fill(0)
      }
    },
  }
}

/** Opens envelopes sealed by {@link createKmsSealer}. Only internal functions may have kms:Decrypt. */
export function createKmsOpener({ kms }: Pick<KmsEnvelopeOptions, 'kms'>): SecretOpener {
  return {
    async open(sealed: SealedSecret, context: SecretContext): Promise<string> {
      if (sealed.version !== 1) throw new Error(`unknown envelope version ${sealed.version}`)
      const encryptionContext = secretEncryptionContext(context)
      const dataKey = await kms
        .send(
          new DecryptCommand({
            KeyId: sealed.keyId,
            CiphertextBlob: sealed.encryptedKey,
            EncryptionContext: encryptionContext,
          }),
        )
        .catch(translateAwsError('KMS'))
      if (!dataKey.Plaintext) throw new Error('KMS Decrypt returned no plaintext')
      try {
        const decipher = createDecipheriv(ALGORITHM, dataKey.Plaintext, sealed.iv, {
          authTagLength: TAG_BYTES,
        })
        decipher.setAAD(additionalData(encryptionContext))
        decipher.setAuthTag(sealed.tag)
        return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]).toString('utf8')
      } finally {
        dataKey.Plaintext.fill(0)
      }
    },
  }
}
