import { randomUUID } from 'node:crypto'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import {
  DecryptCommand,
  DescribeKeyCommand,
  DisabledException,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  IncorrectKeyException,
  InvalidCiphertextException,
  KMSClient,
  KMSInvalidStateException,
  NotFoundException,
  ReEncryptCommand,
} from '@aws-sdk/client-kms'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type KmsEmulator, startKmsEmulator } from '../../local/kms-emulator.ts'

const CONTEXT = { company_id: 'company-a', credential_id: 'cred-1', purpose: 'docker-registry-secret' }

function clientFor(emulator: KmsEmulator): KMSClient {
  return new KMSClient({
    endpoint: emulator.endpoint,
    region: emulator.region,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    // one attempt per call so request counts are exact
    maxAttempts: 1,
  })
}

async function postRaw(emulator: KmsEmulator, operation: string, body: unknown): Promise<Response> {
  return fetch(`${emulator.endpoint}/`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `TrentService.${operation}` },
    body: JSON.stringify(body),
  })
}

describe('startKmsEmulator', () => {
  let emulator: KmsEmulator
  let kms: KMSClient

  beforeAll(async () => {
    emulator = await startKmsEmulator()
    kms = clientFor(emulator)
  })

  afterAll(async () => {
    kms.destroy()
    await emulator.close()
  })

  // each test gets its own key so state changes never leak between tests
  async function freshKey(): Promise<{ keyId: string; arn: string; alias: string }> {
    const alias = `alias/test-${randomUUID()}`
    return { ...(await emulator.ensureKey({ alias, description: 'test key' })), alias }
  }

  it('decrypts a generated data key under the same encryption context', async () => {
    // arrange
    const key = await freshKey()
    const dataKey = await kms.send(
      new GenerateDataKeyCommand({ KeyId: key.arn, KeySpec: 'AES_256', EncryptionContext: CONTEXT }),
    )

    // act
    const decrypted = await kms.send(
      new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: CONTEXT }),
    )

    // assert
    expect(dataKey.Plaintext).toHaveLength(32)
    expect(dataKey.KeyId).toBe(key.arn)
    expect(Buffer.from(decrypted.Plaintext ?? [])).toEqual(Buffer.from(dataKey.Plaintext ?? []))
    expect(decrypted.KeyId).toBe(key.arn)
  })

  it('sizes data keys by KeySpec AES_128 and by NumberOfBytes', async () => {
    // arrange
    const key = await freshKey()

    // act
    const aes128 = await kms.send(new GenerateDataKeyCommand({ KeyId: key.keyId, KeySpec: 'AES_128' }))
    const bytes64 = await kms.send(new GenerateDataKeyCommand({ KeyId: key.keyId, NumberOfBytes: 64 }))

    // assert
    expect(aes128.Plaintext).toHaveLength(16)
    expect(bytes64.Plaintext).toHaveLength(64)
  })

  it('returns no plaintext from GenerateDataKeyWithoutPlaintext but a decryptable blob', async () => {
    // arrange
    const key = await freshKey()
    const dataKey = await kms.send(
      new GenerateDataKeyWithoutPlaintextCommand({
        KeyId: key.arn,
        KeySpec: 'AES_256',
        EncryptionContext: CONTEXT,
      }),
    )

    // act
    const decrypted = await kms.send(
      new DecryptCommand({
        KeyId: key.arn,
        CiphertextBlob: dataKey.CiphertextBlob,
        EncryptionContext: CONTEXT,
      }),
    )

    // assert
    expect(dataKey).not.toHaveProperty('Plaintext')
    expect(decrypted.Plaintext).toHaveLength(32)
  })

  it('refuses to decrypt under another encryption context', async () => {
    // arrange
    const key = await freshKey()
    const dataKey = await kms.send(
      new GenerateDataKeyCommand({ KeyId: key.arn, KeySpec: 'AES_256', EncryptionContext: CONTEXT }),
    )

    // act
    const attempt = kms.send(
      new DecryptCommand({
        CiphertextBlob: dataKey.CiphertextBlob,
        EncryptionContext: { ...CONTEXT, company_id: 'company-b' },
      }),
    )

    // assert
    await expect(attempt).rejects.toBeInstanceOf(InvalidCiphertextException)
  })

  it('refuses to decrypt without the encryption context', async () => {
    // arrange
    const key = await freshKey()
    const dataKey = await kms.send(
      new GenerateDataKeyCommand({ KeyId: key.arn, KeySpec: 'AES_256', EncryptionContext: CONTEXT }),
    )

    // act
    const attempt = kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }))

    // assert
    await expect(attempt).rejects.toBeInstanceOf(InvalidCiphertextException)
  })

  it('accepts the encryption context in any key order', async () => {
    // arrange
    const key = await freshKey()
    const encrypted = await kms.send(
      new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from('secret'), EncryptionContext: CONTEXT }),
    )
    const reordered = {
      purpose: CONTEXT.purpose,
      credential_id: CONTEXT.credential_id,
      company_id: CONTEXT.company_id,
    }

    // act
    const decrypted = await kms.send(
      new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: reordered }),
    )

    // assert
    expect(Buffer.from(decrypted.Plaintext ?? []).toString()).toBe('secret')
  })

  it.each([
    ['format version', 0],
    ['embedded key id', 5],
    ['iv', 40],
    ['auth tag', 55],
    ['ciphertext', -1],
  ])('refuses a blob with a tampered %s byte', async (_part, index) => {
    // arrange
    const key = await freshKey()
    const dataKey = await kms.send(
      new GenerateDataKeyCommand({ KeyId: key.arn, KeySpec: 'AES_256', EncryptionContext: CONTEXT }),
    )
    const blob = Buffer.from(dataKey.CiphertextBlob ?? [])
    const position = index < 0 ? blob.length + index : index
    blob[position] = (blob[position] ?? 0) ^ 0x01

    // act
    const attempt = kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: CONTEXT }))

    // assert
    await expect(attempt).rejects.toBeInstanceOf(InvalidCiphertextException)
  })

  it('refuses a Decrypt whose KeyId names another key than the blob', async () => {
    // arrange
    const key = await freshKey()
    const otherKey = await freshKey()
    const dataKey = await kms.send(
      new GenerateDataKeyCommand({ KeyId: key.arn, KeySpec: 'AES_256', EncryptionContext: CONTEXT }),
    )

    // act
    const attempt = kms.send(
      new DecryptCommand({
        KeyId: otherKey.arn,
        CiphertextBlob: dataKey.CiphertextBlob,
        EncryptionContext: CONTEXT,
      }),
    )

    // assert
    await expect(attempt).rejects.toBeInstanceOf(IncorrectKeyException)
  })

  it('refuses to generate a data key under a disabled key', async () => {
    // arrange
    const key = await freshKey()
    await emulator.setKeyState(key.keyId, 'Disabled')

    // act
    const attempt = kms.send(new GenerateDataKeyCommand({ KeyId: key.arn, KeySpec: 'AES_256' }))

    // assert
    await expect(attempt).rejects.toBeInstanceOf(DisabledException)
  })

  it('refuses to decrypt under a disabled key', async () => {
    // arrange
    const key = await freshKey()
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key.arn, KeySpec: 'AES_256' }))
    await emulator.setKeyState(key.keyId, 'Disabled')

    // act
    const attempt = kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }))

    // assert
    await expect(attempt).rejects.toBeInstanceOf(DisabledException)
  })

  it('decrypts again once a disabled key is enabled', async () => {
    // arrange
    const key = await freshKey()
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key.arn, KeySpec: 'AES_256' }))
    await emulator.setKeyState(key.keyId, 'Disabled')
    await emulator.setKeyState(key.alias, 'Enabled')

    // act
    const decrypted = await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }))

    // assert
    expect(decrypted.Plaintext).toHaveLength(32)
  })

  it('refuses to use a key pending deletion', async () => {
    // arrange
    const key = await freshKey()
    await emulator.setKeyState(key.keyId, 'PendingDeletion')

    // act
    const attempt = kms.send(new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from('x') }))

    // assert
    await expect(attempt).rejects.toBeInstanceOf(KMSInvalidStateException)
  })

  it.each([
    ['key id', (key: { keyId: string }) => key.keyId],
    ['key ARN', (key: { arn: string }) => key.arn],
    ['alias name', (key: { alias: string }) => key.alias],
    ['alias ARN', (key: { alias: string }) => `arn:aws:kms:us-east-1:000000000000:${key.alias}`],
  ])('resolves a key given by %s', async (_form, identify) => {
    // arrange
    const key = await freshKey()

    // act
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: identify(key), KeySpec: 'AES_256' }))

    // assert
    expect(dataKey.KeyId).toBe(key.arn)
  })

  it.each([
    ['an unknown alias', 'alias/does-not-exist'],
    ['an unknown key id', '00000000-0000-0000-0000-000000000000'],
    [
      'a key ARN of another account',
      'arn:aws:kms:us-east-1:111111111111:key/00000000-0000-0000-0000-000000000000',
    ],
  ])('answers NotFoundException for %s', async (_case, keyId) => {
    // act
    const attempt = kms.send(new DescribeKeyCommand({ KeyId: keyId }))

    // assert
    await expect(attempt).rejects.toBeInstanceOf(NotFoundException)
  })

  it('answers NotFoundException for a key ARN of another region', async () => {
    // arrange
    const key = await freshKey()

    // act
    const attempt = kms.send(new DescribeKeyCommand({ KeyId: key.arn.replace('us-east-1', 'eu-west-1') }))

    // assert
    await expect(attempt).rejects.toBeInstanceOf(NotFoundException)
  })

  it('round-trips Encrypt and Decrypt', async () => {
    // arrange
    const key = await freshKey()
    const encrypted = await kms.send(
      new EncryptCommand({
        KeyId: key.alias,
        Plaintext: Buffer.from('registry password'),
        EncryptionContext: CONTEXT,
      }),
    )

    // act
    const decrypted = await kms.send(
      new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, EncryptionContext: CONTEXT }),
    )

    // assert
    expect(encrypted.KeyId).toBe(key.arn)
    expect(Buffer.from(decrypted.Plaintext ?? []).toString()).toBe('registry password')
  })

  it('refuses to Encrypt more than 4096 bytes', async () => {
    // arrange
    const key = await freshKey()

    // act
    const attempt = kms.send(new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.alloc(4097) }))

    // assert
    await expect(attempt).rejects.toMatchObject({ name: 'ValidationException' })
  })

  it('re-encrypts a blob under another key and context', async () => {
    // arrange
    const source = await freshKey()
    const destination = await freshKey()
    const encrypted = await kms.send(
      new EncryptCommand({
        KeyId: source.arn,
        Plaintext: Buffer.from('rotated'),
        EncryptionContext: CONTEXT,
      }),
    )
    const newContext = { ...CONTEXT, credential_id: 'cred-2' }

    // act
    const reEncrypted = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: encrypted.CiphertextBlob,
        SourceEncryptionContext: CONTEXT,
        DestinationKeyId: destination.alias,
        DestinationEncryptionContext: newContext,
      }),
    )
    const decrypted = await kms.send(
      new DecryptCommand({
        KeyId: destination.keyId,
        CiphertextBlob: reEncrypted.CiphertextBlob,
        EncryptionContext: newContext,
      }),
    )

    // assert
    expect(reEncrypted.SourceKeyId).toBe(source.arn)
    expect(reEncrypted.KeyId).toBe(destination.arn)
    expect(Buffer.from(decrypted.Plaintext ?? []).toString()).toBe('rotated')
  })

  it('refuses to re-encrypt under the wrong source context', async () => {
    // arrange
    const key = await freshKey()
    const encrypted = await kms.send(
      new EncryptCommand({ KeyId: key.arn, Plaintext: Buffer.from('x'), EncryptionContext: CONTEXT }),
    )

    // act
    const attempt = kms.send(
      new ReEncryptCommand({ CiphertextBlob: encrypted.CiphertextBlob, DestinationKeyId: key.arn }),
    )

    // assert
    await expect(attempt).rejects.toBeInstanceOf(InvalidCiphertextException)
  })

  it('describes a key', async () => {
    // arrange
    const key = await freshKey()

    // act
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.alias }))

    // assert
    expect(KeyMetadata).toMatchObject({
      KeyId: key.keyId,
      Arn: key.arn,
      KeyState: 'Enabled',
      Enabled: true,
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      Description: 'test key',
    })
    expect(KeyMetadata?.CreationDate).toBeInstanceOf(Date)
  })

  it('describes a disabled key as disabled', async () => {
    // arrange
    const key = await freshKey()
    await emulator.setKeyState(key.keyId, 'Disabled')

    // act
    const { KeyMetadata } = await kms.send(new DescribeKeyCommand({ KeyId: key.keyId }))

    // assert
    expect(KeyMetadata).toMatchObject({ KeyState: 'Disabled', Enabled: false })
  })

  it('returns the existing key when ensureKey names a known alias', async () => {
    // arrange
    const key = await freshKey()

    // act
    const again = await emulator.ensureKey({ alias: key.alias })

    // assert
    expect(again).toEqual({ keyId: key.keyId, arn: key.arn })
  })

  it('answers ValidationException for an unknown KeySpec', async () => {
    // arrange
    const key = await freshKey()

    // act
    const attempt = kms.send(
      new GenerateDataKeyCommand({ KeyId: key.arn, KeySpec: 'AES_512' as unknown as 'AES_256' }),
    )

    // assert
    await expect(attempt).rejects.toMatchObject({ name: 'ValidationException' })
  })

  it('answers ValidationException for a Decrypt without CiphertextBlob', async () => {
    // act
    const response = await postRaw(emulator, 'Decrypt', { EncryptionContext: CONTEXT })

    // assert
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ __type: 'ValidationException' })
  })

  it('answers ValidationException for a GenerateDataKey without KeyId', async () => {
    // act
    const response = await postRaw(emulator, 'GenerateDataKey', { KeySpec: 'AES_256' })

    // assert
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ __type: 'ValidationException' })
  })

  it('answers UnknownOperationException for an operation it does not emulate', async () => {
    // act
    const response = await postRaw(emulator, 'CreateKey', {})

    // assert
    expect(response.status).toBe(400)
    expect(await response.json()).toMatchObject({ __type: 'UnknownOperationException' })
  })

  it('counts requests per operation, failed ones included', async () => {
    // arrange
    const key = await freshKey()
    const dataKey = await kms.send(new GenerateDataKeyCommand({ KeyId: key.arn, KeySpec: 'AES_256' }))
    const decryptsBefore = emulator.requestCount('Decrypt')
    const totalBefore = emulator.requestCount()

    // act
    await kms.send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob }))
    await kms
      .send(new DecryptCommand({ CiphertextBlob: dataKey.CiphertextBlob, EncryptionContext: CONTEXT }))
      .catch(() => undefined)
    await kms.send(new DescribeKeyCommand({ KeyId: key.arn }))

    // assert
    expect(emulator.requestCount('Decrypt') - decryptsBefore).toBe(2)
    expect(emulator.requestCount() - totalBefore).toBe(3)
  })
})

describe('startKmsEmulator with a data directory', () => {
  let dataDir: string

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'kms-emulator-'))
  })

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true })
  })

  it('decrypts after a restart a blob made before it', async () => {
    // arrange
    const before = await startKmsEmulator({ dataDir })
    const key = await before.ensureKey({ alias: 'alias/secrets' })
    const beforeClient = clientFor(before)
    const dataKey = await beforeClient.send(
      new GenerateDataKeyCommand({ KeyId: 'alias/secrets', KeySpec: 'AES_256', EncryptionContext: CONTEXT }),
    )
    beforeClient.destroy()
    await before.close()

    // act
    const after = await startKmsEmulator({ dataDir })
    const afterClient = clientFor(after)
    const decrypted = await afterClient
      .send(
        new DecryptCommand({
          KeyId: key.arn,
          CiphertextBlob: dataKey.CiphertextBlob,
          EncryptionContext: CONTEXT,
        }),
      )
      .finally(async () => {
        afterClient.destroy()
        await after.close()
      })

    // assert
    expect(Buffer.from(decrypted.Plaintext ?? [])).toEqual(Buffer.from(dataKey.Plaintext ?? []))
  })

  it('keeps aliases across a restart', async () => {
    // arrange
    const before = await startKmsEmulator({ dataDir })
    const key = await before.ensureKey({ alias: 'alias/kept' })
    await before.close()

    // act
    const after = await startKmsEmulator({ dataDir })
    const again = await after.ensureKey({ alias: 'alias/kept' }).finally(() => after.close())

    // assert
    expect(again).toEqual(key)
  })

  it('writes the key file readable by its owner only', async () => {
    // arrange
    const emulator = await startKmsEmulator({ dataDir })

    // act
    await emulator.ensureKey({ alias: 'alias/private' })
    await emulator.close()

    // assert
    const { mode } = await stat(join(dataDir, 'kms-keys.json'))
    expect(mode & 0o777).toBe(0o600)
  })
})
