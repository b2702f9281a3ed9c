import { createCipheriv, createDecipheriv, randomBytes, randomUUID } from 'node:crypto'
import { chmod, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { join } from 'node:path'
import { closeServer, listen } from './server-lifecycle.ts'

/** Options of {@link startKmsEmulator}. */
export interface KmsEmulatorOptions {
  /**
   * Interface to listen on.
   * @default '127.0.0.1'
   */
  host?: string
  /**
   * Port to listen on; 0 picks a free ephemeral port.
   * @default 0
   */
  port?: number
  /**
   * Region that key and alias ARNs name; ARNs of another region are not found, as in KMS.
   * @default 'us-east-1'
   */
  region?: string
  /**
   * Account that key and alias ARNs name.
   * @default '000000000000'
   */
  accountId?: string
  /**
   * When set, key material and aliases persist in `<dataDir>/kms-keys.json` (mode 0600), so
   * ciphertexts made before a restart still decrypt after it. Without it, keys live in memory only.
   */
  dataDir?: string
}

/** The key states a test or the local stack can put a key in. */
export type KmsEmulatorKeyState = 'Enabled' | 'Disabled' | 'PendingDeletion'

/** A running KMS emulator, reachable through `KMSClient` with `endpoint` and `region`. */
export interface KmsEmulator {
  /** Base URL to pass as the SDK client's `endpoint`, e.g. `http://127.0.0.1:49152`. */
  endpoint: string
  /** Region the emulator's ARNs name; pass it as the SDK client's `region`. */
  region: string
  /**
   * Creates an enabled symmetric key under `alias` (`alias/x` or `x`), or returns the key the
   * alias already names, so the local stack can call it on every start.
   */
  ensureKey(options: { alias: string; description?: string }): Promise<{ keyId: string; arn: string }>
  /**
   * Puts a key (given by key id, key ARN, alias name or alias ARN) into a state, to exercise the
   * DisabledException and KMSInvalidStateException paths. Any transition is allowed.
   */
  setKeyState(keyId: string, state: KmsEmulatorKeyState): Promise<void>
  /**
   * How many requests naming this operation (e.g. `'Decrypt'`), or all requests when omitted,
   * the emulator answered, failed ones included; for tests and request budget checks.
   */
  requestCount(operation?: string): number
  /** Stops listening, drops open connections and waits for pending writes of the key file. */
  close(): Promise<void>
}

const TARGET_PREFIX = 'TrentService.'
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1'
const KEY_FILE = 'kms-keys.json'
const KEY_FILE_VERSION = 1

// a request carries at most a 6144-byte blob and a small context; the cap stops a local client
// from exhausting memory with an endless body (threat: a runaway test or a hostile local process).
const MAX_BODY_BYTES = 64 * 1024
const MAX_PLAINTEXT_BYTES = 4096
const MAX_CIPHERTEXT_BYTES = 6144
const MAX_KEY_ID_LENGTH = 2048
const MAX_DATA_KEY_BYTES = 1024

const MASTER_KEY_BYTES = 32
const BLOB_FORMAT_VERSION = 1
const KEY_ID_BYTES = 36
const HEADER_BYTES = 1 + KEY_ID_BYTES
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/
const ALIAS_PATTERN = /^alias\/[a-zA-Z0-9/_-]{1,250}$/
const ARN_PATTERN = /^arn:aws[a-z-]*:kms:([^:]*):([^:]*):(key|alias)\/(.+)$/

const SYMMETRIC_ALGORITHM = 'SYMMETRIC_DEFAULT'
const ASYMMETRIC_ALGORITHMS = new Set(['RSAES_OAEP_SHA_1', 'RSAES_OAEP_SHA_256', 'SM2PKE'])
const DATA_KEY_SPECS = new Map([
  ['AES_256', 32],
  ['AES_128', 16],
])
const DAY_SECONDS = 24 * 60 * 60
const DEFAULT_DELETION_WINDOW_DAYS = 30

interface KeyRecord {
  keyId: string
  material: Buffer
  state: KmsEmulatorKeyState
  description: string
  creationDate: number
  deletionDate?: number
}

interface KeyFile {
  version: number
  keys: {
    keyId: string
    material: string
    state: KmsEmulatorKeyState
    description: string
    creationDate: number
    deletionDate?: number
  }[]
  aliases: Record<string, string>
}

type RequestBody = Record<string, unknown>
type Operation = (body: RequestBody) => Record<string, unknown>

/** A KMS error as the JSON 1.1 protocol carries it; the SDK turns `type` into a typed exception. */
class KmsProtocolError extends Error {
  readonly type: string
  readonly status: number

  constructor(type: string, message: string, status = 400) {
    super(message)
    this.name = 'KmsProtocolError'
    this.type = type
    this.status = status
  }
}

function validationError(message: string): KmsProtocolError {
  return new KmsProtocolError('ValidationException', message)
}

function invalidCiphertext(): KmsProtocolError {
  // one message for every cause, so an answer never tells a prober which byte or field was wrong.
  return new KmsProtocolError('InvalidCiphertextException', 'The ciphertext is invalid.')
}

function optionalString(body: RequestBody, field: string): string | undefined {
  const value = body[field]
  if (value === undefined || value === null) return undefined
  if (typeof value !== 'string') throw validationError(`${field} must be a string`)
  return value
}

function requiredKeyId(body: RequestBody, field: string): string {
  const value = optionalString(body, field)
  if (value === undefined || value.length === 0) throw validationError(`${field} is required`)
  if (value.length > MAX_KEY_ID_LENGTH) throw validationError(`${field} is too long`)
  return value
}

function requiredBlob(body: RequestBody, field: string, maxBytes: number): Buffer {
  const value = optionalString(body, field)
  if (value === undefined || value.length === 0) throw validationError(`${field} is required`)
  // Buffer.from silently skips invalid characters, so check the alphabet first.
  if (value.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(value)) {
    throw new KmsProtocolError('SerializationException', `${field} is not valid base64`)
  }
  const bytes = Buffer.from(value, 'base64')
  if (bytes.length === 0) throw validationError(`${field} is required`)
  if (bytes.length > maxBytes) {
    throw validationError(`${field} must be at most ${maxBytes} bytes long`)
  }
  return bytes
}

function encryptionContext(body: RequestBody, field: string): Record<string, string> {
  const value = body[field]
  if (value === undefined || value === null) return {}
  if (typeof value !== 'object' || Array.isArray(value)) throw validationError(`${field} must be a map`)
  const context: Record<string, string> = {}
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string') throw validationError(`${field} values must be strings`)
    context[key] = entry
  }
  return context
}

function requireSymmetricAlgorithm(body: RequestBody, field: string): void {
  const value = optionalString(body, field)
  if (value === undefined || value === SYMMETRIC_ALGORITHM) return
  if (ASYMMETRIC_ALGORITHMS.has(value)) {
    throw new KmsProtocolError('InvalidKeyUsageException', `${value} is not valid for a symmetric key`)
  }
  throw validationError(`${field} has an unknown value`)
}

function dataKeyLength(body: RequestBody): number {
  const keySpec = optionalString(body, 'KeySpec')
  const numberOfBytes = body.NumberOfBytes
  const hasNumberOfBytes = numberOfBytes !== undefined && numberOfBytes !== null
  if (keySpec !== undefined && hasNumberOfBytes) {
    throw validationError('Specify either KeySpec or NumberOfBytes, not both')
  }
  if (keySpec !== undefined) {
    const length = DATA_KEY_SPECS.get(keySpec)
    if (length === undefined) throw validationError('KeySpec must be AES_256 or AES_128')
    return length
  }
  if (!hasNumberOfBytes) throw validationError('Specify either KeySpec or NumberOfBytes')
  if (
    typeof numberOfBytes !== 'number' ||
    !Number.isInteger(numberOfBytes) ||
    numberOfBytes < 1 ||
    numberOfBytes > MAX_DATA_KEY_BYTES
  ) {
    throw validationError(`NumberOfBytes must be an integer from 1 to ${MAX_DATA_KEY_BYTES}`)
  }
  return numberOfBytes
}

// keys sorted so the AAD does not depend on the order the caller wrote the context in, as in KMS.
function canonicalContext(context: Record<string, string>): Buffer {
  const sorted = Object.keys(context)
    .sort()
    .map((key) => [key, context[key]])
  return Buffer.from(JSON.stringify(sorted), 'utf8')
}

function blobHeader(keyId: string): Buffer {
  const header = Buffer.alloc(HEADER_BYTES)
  header[0] = BLOB_FORMAT_VERSION
  header.write(keyId, 1, 'ascii')
  return header
}

// blob layout: version (1) | key id (36, ascii) | iv (12) | tag (16) | ciphertext. the header and
// the context are AAD, so a blob replayed under another context or edited anywhere fails to open
// (threat: an envelope copied into another company's item).
function sealBlob(key: KeyRecord, plaintext: Buffer, context: Record<string, string>): Buffer {
  const header = blobHeader(key.keyId)
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key.material, iv, { authTagLength: TAG_BYTES })
  cipher.setAAD(Buffer.concat([header, canonicalContext(context)]))
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([header, iv, cipher.getAuthTag(), ciphertext])
}

function embeddedKeyId(blob: Buffer): string {
  if (blob.length < HEADER_BYTES + IV_BYTES + TAG_BYTES || blob[0] !== BLOB_FORMAT_VERSION) {
    throw invalidCiphertext()
  }
  return blob.toString('ascii', 1, HEADER_BYTES)
}

function openBlob(key: KeyRecord, blob: Buffer, context: Record<string, string>): Buffer {
  const header = blob.subarray(0, HEADER_BYTES)
  const iv = blob.subarray(HEADER_BYTES, HEADER_BYTES + IV_BYTES)
  const tag = blob.subarray(HEADER_BYTES + IV_BYTES, HEADER_BYTES + IV_BYTES + TAG_BYTES)
  const ciphertext = blob.subarray(HEADER_BYTES + IV_BYTES + TAG_BYTES)
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.material, iv, { authTagLength: TAG_BYTES })
    decipher.setAAD(Buffer.concat([header, canonicalContext(context)]))
    decipher.setAuthTag(tag)
    return Buffer.concat([decipher.update(ciphertext), decipher.final()])
  } catch {
    throw invalidCiphertext()
  }
}

function isKeyState(value: unknown): value is KmsEmulatorKeyState {
  return value === 'Enabled' || value === 'Disabled' || value === 'PendingDeletion'
}

function parseKeyFile(text: string, path: string): KeyFile {
  const data = JSON.parse(text) as Partial<KeyFile>
  const valid =
    data.version === KEY_FILE_VERSION &&
    Array.isArray(data.keys) &&
    typeof data.aliases === 'object' &&
    data.aliases !== null &&
    data.keys.every(
      (key) =>
        KEY_ID_PATTERN.test(key.keyId) &&
        typeof key.material === 'string' &&
        Buffer.from(key.material, 'base64').length === MASTER_KEY_BYTES &&
        isKeyState(key.state) &&
        typeof key.description === 'string' &&
        typeof key.creationDate === 'number',
    )
  if (!valid) throw new Error(`KMS emulator key file ${path} is not in the expected format`)
  return data as KeyFile
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    request.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY_BYTES) {
        request.removeAllListeners('data')
        request.resume()
        reject(new KmsProtocolError('ValidationException', 'request body too large', 413))
        return
      }
      chunks.push(chunk)
    })
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    request.on('error', reject)
  })
}

function parseBody(text: string): RequestBody {
  if (text.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    throw new KmsProtocolError('SerializationException', 'request body is not valid JSON')
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new KmsProtocolError('SerializationException', 'request body must be a JSON object')
  }
  return parsed as RequestBody
}

function sendJson(response: ServerResponse, status: number, body: unknown, close = false): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8')
  response.writeHead(status, {
    'content-type': JSON_CONTENT_TYPE,
    'content-length': payload.length,
    'x-amzn-requestid': randomUUID(),
    ...(close ? { connection: 'close' } : {}),
  })
  response.end(payload)
}

function formatEndpoint(host: string, port: number): string {
  return host.includes(':') ? `http://[${host}]:${port}` : `http://${host}:${port}`
}

/**
 * Starts an in-process emulator of the AWS KMS JSON 1.1 protocol (GenerateDataKey,
 * GenerateDataKeyWithoutPlaintext, Encrypt, Decrypt, ReEncrypt, DescribeKey) so the local stack
 * and integration tests run the real `KMSClient` code against it. Like KMS it authenticates every
 * ciphertext with its encryption context and refuses disabled or pending-deletion keys.
 * SigV4 signatures are accepted unchecked; it never logs plaintexts.
 */
export async function startKmsEmulator(options: KmsEmulatorOptions = {}): Promise<KmsEmulator> {
  const host = options.host ?? '127.0.0.1'
  const region = options.region ?? 'us-east-1'
  const accountId = options.accountId ?? '000000000000'
  const keyFilePath = options.dataDir === undefined ? undefined : join(options.dataDir, KEY_FILE)

  const keys = new Map<string, KeyRecord>()
  const aliases = new Map<string, string>()
  const counts = new Map<string, number>()
  let totalCount = 0

  if (options.dataDir !== undefined && keyFilePath !== undefined) {
    // the key file holds master keys in the clear, readable by this user only (threat: another
    // local user reading the file could decrypt every secret the local stack stored).
    await mkdir(options.dataDir, { recursive: true, mode: 0o700 })
    let text: string | undefined
    try {
      text = await readFile(keyFilePath, 'utf8')
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
    if (text !== undefined) {
      // a corrupt file stops the start instead of being replaced, since new keys would make every
      // stored envelope undecryptable.
      const file = parseKeyFile(text, keyFilePath)
      for (const key of file.keys) {
        keys.set(key.keyId, { ...key, material: Buffer.from(key.material, 'base64') })
      }
      for (const [alias, keyId] of Object.entries(file.aliases)) {
        if (keys.has(keyId)) aliases.set(alias, keyId)
      }
      await chmod(keyFilePath, 0o600)
    }
  }

  let persisting: Promise<void> = Promise.resolve()
  function persist(): Promise<void> {
    if (keyFilePath === undefined) return Promise.resolve()
    const file: KeyFile = {
      version: KEY_FILE_VERSION,
      keys: [...keys.values()].map((key) => ({ ...key, material: key.material.toString('base64') })),
      aliases: Object.fromEntries(aliases),
    }
    const text = `${JSON.stringify(file, null, 2)}\n`
    const temporaryPath = `${keyFilePath}.${process.pid}.tmp`
    // writes are chained so an older snapshot never overwrites a newer one, and renamed into place
    // so a crash mid-write cannot leave a truncated key file.
    persisting = persisting
      .catch(() => undefined)
      .then(async () => {
        await rm(temporaryPath, { force: true })
        await writeFile(temporaryPath, text, { mode: 0o600, flag: 'wx' })
        await rename(temporaryPath, keyFilePath)
      })
    return persisting
  }

  function keyArn(key: KeyRecord): string {
    return `arn:aws:kms:${region}:${accountId}:key/${key.keyId}`
  }

  function notFound(identifier: string): KmsProtocolError {
    return new KmsProtocolError('NotFoundException', `Key '${identifier}' does not exist`)
  }

  function findKey(identifier: string): KeyRecord {
    let reference = identifier
    const arn = ARN_PATTERN.exec(identifier)
    if (identifier.startsWith('arn:')) {
      if (!arn || arn[1] !== region || arn[2] !== accountId) throw notFound(identifier)
      reference = arn[3] === 'alias' ? `alias/${arn[4]}` : (arn[4] ?? '')
    }
    if (reference.startsWith('alias/')) {
      const aliasTarget = aliases.get(reference)
      if (aliasTarget === undefined) throw notFound(identifier)
      reference = aliasTarget
    }
    const key = keys.get(reference)
    if (key === undefined) throw notFound(identifier)
    return key
  }

  function requireUsable(key: KeyRecord): void {
    if (key.state === 'Disabled') {
      throw new KmsProtocolError('DisabledException', `${keyArn(key)} is disabled.`)
    }
    if (key.state === 'PendingDeletion') {
      throw new KmsProtocolError('KMSInvalidStateException', `${keyArn(key)} is pending deletion.`)
    }
  }

  // resolves the key a blob names; a requested key must be that key, as KMS's KeyId check does.
  function decryptBlob(
    blob: Buffer,
    context: Record<string, string>,
    requestedKeyId: string | undefined,
  ): { key: KeyRecord; plaintext: Buffer } {
    const requested = requestedKeyId === undefined ? undefined : findKey(requestedKeyId)
    const key = keys.get(embeddedKeyId(blob))
    if (requested !== undefined && requested !== key) {
      throw new KmsProtocolError(
        'IncorrectKeyException',
        'The key ID in the request does not identify a KMS key that can perform this operation.',
      )
    }
    if (key === undefined) throw invalidCiphertext()
    requireUsable(key)
    return { key, plaintext: openBlob(key, blob, context) }
  }

  function generateDataKey(body: RequestBody, withPlaintext: boolean): Record<string, unknown> {
    const key = findKey(requiredKeyId(body, 'KeyId'))
    const length = dataKeyLength(body)
    const context = encryptionContext(body, 'EncryptionContext')
    requireUsable(key)
    const plaintext = randomBytes(length)
    try {
      const blob = sealBlob(key, plaintext, context)
      return {
        CiphertextBlob: blob.toString('base64'),
        KeyId: keyArn(key),
        ...(withPlaintext ? { Plaintext: plaintext.toString('base64') } : {}),
      }
    } finally {
      plaintext.fill(0)
    }
  }

  function describe(key: KeyRecord): Record<string, unknown> {
    return {
      AWSAccountId: accountId,
      KeyId: key.keyId,
      Arn: keyArn(key),
      CreationDate: key.creationDate,
      Enabled: key.state === 'Enabled',
      Description: key.description,
      KeyUsage: 'ENCRYPT_DECRYPT',
      KeyState: key.state,
      Origin: 'AWS_KMS',
      KeyManager: 'CUSTOMER',
      CustomerMasterKeySpec: 'SYMMETRIC_DEFAULT',
      KeySpec: 'SYMMETRIC_DEFAULT',
      EncryptionAlgorithms: [SYMMETRIC_ALGORITHM],
      MultiRegion: false,
      ...(key.deletionDate !== undefined ? { DeletionDate: key.deletionDate } : {}),
    }
  }

  // a Map, not an object literal, so a target such as `TrentService.constructor` finds nothing.
  const operations = new Map<string, Operation>([
    ['GenerateDataKey', (body) => generateDataKey(body, true)],
    ['GenerateDataKeyWithoutPlaintext', (body) => generateDataKey(body, false)],
    [
      'Encrypt',
      (body) => {
        const key = findKey(requiredKeyId(body, 'KeyId'))
        const plaintext = requiredBlob(body, 'Plaintext', MAX_PLAINTEXT_BYTES)
        const context = encryptionContext(body, 'EncryptionContext')
        requireSymmetricAlgorithm(body, 'EncryptionAlgorithm')
        requireUsable(key)
        return {
          CiphertextBlob: sealBlob(key, plaintext, context).toString('base64'),
          KeyId: keyArn(key),
          EncryptionAlgorithm: SYMMETRIC_ALGORITHM,
        }
      },
    ],
    [
      'Decrypt',
      (body) => {
        const blob = requiredBlob(body, 'CiphertextBlob', MAX_CIPHERTEXT_BYTES)
        const context = encryptionContext(body, 'EncryptionContext')
        requireSymmetricAlgorithm(body, 'EncryptionAlgorithm')
        const requestedKeyId = optionalString(body, 'KeyId')
        const { key, plaintext } = decryptBlob(blob, context, requestedKeyId || undefined)
        try {
          return {
            KeyId: keyArn(key),
            Plaintext: plaintext.toString('base64'),
            EncryptionAlgorithm: SYMMETRIC_ALGORITHM,
          }
        } finally {
          plaintext.fill(0)
        }
      },
    ],
    [
      'ReEncrypt',
      (body) => {
        const blob = requiredBlob(body, 'CiphertextBlob', MAX_CIPHERTEXT_BYTES)
        const destination = findKey(requiredKeyId(body, 'DestinationKeyId'))
        const sourceContext = encryptionContext(body, 'SourceEncryptionContext')
        const destinationContext = encryptionContext(body, 'DestinationEncryptionContext')
        requireSymmetricAlgorithm(body, 'SourceEncryptionAlgorithm')
        requireSymmetricAlgorithm(body, 'DestinationEncryptionAlgorithm')
        const sourceKeyId = optionalString(body, 'SourceKeyId')
        const { key: source, plaintext } = decryptBlob(blob, sourceContext, sourceKeyId || undefined)
        try {
          requireUsable(destination)
          return {
            CiphertextBlob: sealBlob(destination, plaintext, destinationContext).toString('base64'),
            SourceKeyId: keyArn(source),
            KeyId: keyArn(destination),
            SourceEncryptionAlgorithm: SYMMETRIC_ALGORITHM,
            DestinationEncryptionAlgorithm: SYMMETRIC_ALGORITHM,
          }
        } finally {
          plaintext.fill(0)
        }
      },
    ],
    ['DescribeKey', (body) => ({ KeyMetadata: describe(findKey(requiredKeyId(body, 'KeyId'))) })],
  ])

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const target = request.headers['x-amz-target']
    const operationName =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : undefined
    totalCount += 1
    if (operationName !== undefined) counts.set(operationName, (counts.get(operationName) ?? 0) + 1)
    try {
      const operation = operationName === undefined ? undefined : operations.get(operationName)
      if (request.method !== 'POST' || operation === undefined) {
        request.resume()
        throw new KmsProtocolError(
          'UnknownOperationException',
          `unsupported operation ${String(target ?? request.method)}`,
        )
      }
      const body = parseBody(await readBody(request))
      sendJson(response, 200, operation(body))
    } catch (error) {
      // error bodies carry only the type and a fixed message: never a plaintext or a request field.
      if (error instanceof KmsProtocolError) {
        sendJson(response, error.status, { __type: error.type, message: error.message }, error.status === 413)
      } else {
        sendJson(response, 500, { __type: 'KMSInternalException', message: 'internal error' })
      }
    }
  }

  const server = createServer((request, response) => {
    void handle(request, response)
  })
  const port = await listen(server, host, options.port ?? 0)

  let closing: Promise<void> | undefined

  return {
    endpoint: formatEndpoint(host, port),
    region,

    async ensureKey({ alias, description }) {
      const aliasName = alias.startsWith('alias/') ? alias : `alias/${alias}`
      if (!ALIAS_PATTERN.test(aliasName) || aliasName.startsWith('alias/aws/')) {
        throw new Error(`invalid KMS alias name ${alias}`)
      }
      const existingKeyId = aliases.get(aliasName)
      const existing = existingKeyId === undefined ? undefined : keys.get(existingKeyId)
      if (existing !== undefined) return { keyId: existing.keyId, arn: keyArn(existing) }
      const key: KeyRecord = {
        keyId: randomUUID(),
        material: randomBytes(MASTER_KEY_BYTES),
        state: 'Enabled',
        description: description ?? '',
        creationDate: Math.floor(Date.now() / 1000),
      }
      keys.set(key.keyId, key)
      aliases.set(aliasName, key.keyId)
      await persist()
      return { keyId: key.keyId, arn: keyArn(key) }
    },

    async setKeyState(keyId, state) {
      if (!isKeyState(state)) throw new Error(`unknown key state ${String(state)}`)
      let key: KeyRecord
      try {
        key = findKey(keyId)
      } catch {
        throw new Error(`KMS emulator has no key ${keyId}`)
      }
      key.state = state
      key.deletionDate =
        state === 'PendingDeletion'
          ? Math.floor(Date.now() / 1000) + DEFAULT_DELETION_WINDOW_DAYS * DAY_SECONDS
          : undefined
      await persist()
    },

    requestCount(operation) {
      return operation === undefined ? totalCount : (counts.get(operation) ?? 0)
    },

    close() {
      closing ??= closeServer(server).then(() => persisting.catch(() => undefined))
      return closing
    },
  }
}
