import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type KmsEmulator, startKmsEmulator } from '../../local/kms-emulator.ts'
import { createKmsOpener, createKmsSealer } from '../../shared/adapters/kms-envelope.ts'
import type { SealedSecret } from '../../shared/domain/ports.ts'

let emulator: KmsEmulator
let kms: KMSClient
let keyArn: string

beforeAll(async () => {
  emulator = await startKmsEmulator()
  keyArn = (await emulator.ensureKey({ alias: 'alias/secrets' })).arn
  kms = new KMSClient({
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  })
})

afterAll(async () => {
  kms?.destroy()
  await emulator?.close()
})

const context = {
  companyId: '11111111-1111-4111-8111-111111111111',
  credentialId: '0195f1f6-8f5e-7000-8000-000000000001',
}
const flip = (bytes: Uint8Array, index = 0) => {
  const copy = Uint8Array.from(bytes)
  copy[index] = (copy[index] ?? 0) ^ 0x01
  return copy
}

describe('KMS envelope', () => {
  const sealer = () => createKmsSealer({ kms, keyId: 'alias/secrets' })
  const opener = () => createKmsOpener({ kms })

  it('round-trips a secret', async () => {
    const sealed = await sealer().seal('pässwörd-🔑', context)

    await expect(opener().open(sealed, context)).resolves.toBe('pässwörd-🔑')
  })

  it('records the key ARN, a 96-bit IV and a 128-bit tag', async () => {
    const sealed = await sealer().seal('secret-value', context)

    expect(sealed).toMatchObject({ version: 1, keyId: keyArn })
    expect(sealed.iv).toHaveLength(12)
    expect(sealed.tag).toHaveLength(16)
    expect(Buffer.from(sealed.ciphertext).toString('utf8')).not.toContain('secret-value')
  })

  it.each([
    ['ciphertext', (s: SealedSecret) => ({ ...s, ciphertext: flip(s.ciphertext) })],
    ['IV', (s: SealedSecret) => ({ ...s, iv: flip(s.iv) })],
    ['auth tag', (s: SealedSecret) => ({ ...s, tag: flip(s.tag) })],
    ['encrypted data key', (s: SealedSecret) => ({ ...s, encryptedKey: flip(s.encryptedKey, 60) })],
  ])('refuses a tampered %s', async (_part, tamper) => {
    const sealed = await sealer().seal('secret-value', context)

    await expect(opener().open(tamper(sealed), context)).rejects.toThrow()
  })

  it("refuses to open an envelope under another company's context", async () => {
    const sealed = await sealer().seal('secret-value', context)

    await expect(
      opener().open(sealed, { ...context, companyId: '22222222-2222-4222-8222-222222222222' }),
    ).rejects.toThrow()
  })

  it("refuses to open an envelope under another credential's context", async () => {
    const sealed = await sealer().seal('secret-value', context)

    await expect(
      opener().open(sealed, { ...context, credentialId: '0195f1f6-8f5e-7000-8000-000000000002' }),
    ).rejects.toThrow()
  })

  it('gives two seals of the same secret different keys, IVs and ciphertexts', async () => {
    const first = await sealer().seal('same-secret', context)
    const second = await sealer().seal('same-secret', context)

    expect(Buffer.from(first.encryptedKey).equals(Buffer.from(second.encryptedKey))).toBe(false)
    expect(Buffer.from(first.iv).equals(Buffer.from(second.iv))).toBe(false)
    expect(Buffer.from(first.ciphertext).equals(Buffer.from(second.ciphertext))).toBe(false)
  })

  it('asks KMS for the data key under the full encryption context', async () => {
    const generated = emulator.requestCount('GenerateDataKey')

    const sealed = await sealer().seal('secret-value', context)

    expect(emulator.requestCount('GenerateDataKey')).toBe(generated + 1)
    // the emulator enforces context like KMS: the wrapped key opens only with it, purpose included
    await expect(
      kms.send(
        new DecryptCommand({
          CiphertextBlob: sealed.encryptedKey,
          EncryptionContext: { company_id: context.companyId, credential_id: context.credentialId },
        }),
      ),
    ).rejects.toThrow()
  })

  it('refuses an unknown envelope version', async () => {
    const sealed = await sealer().seal('secret-value', context)

    await expect(opener().open({ ...sealed, version: 2 as 1 }, context)).rejects.toThrow(/version/)
  })
})
