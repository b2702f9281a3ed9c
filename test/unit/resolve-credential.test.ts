import { describe, expect, it } from 'vitest'
import type { RegistryProvider } from '../../shared/domain/docker-registry.ts'
import { DependencyUnavailableError } from '../../shared/domain/errors.ts'
import { createLoginCache } from '../../shared/domain/login-cache.ts'
import type {
  CredentialStore,
  SealedSecret,
  SecretContext,
  SecretOpener,
  StoredCredential,
} from '../../shared/domain/ports.ts'
import {
  invocationIds,
  RegistryCredentialsRejectedError,
  type ResolveCredentialResult,
  resolveCredential,
} from '../../shared/domain/resolve-credential.ts'
import type {
  CredentialExchanger,
  ExchangeRequest,
  ShortLivedLogin,
} from '../../shared/domain/short-lived-credentials.ts'

const COMPANY_ID = '0c6a6c9e-5d2b-4c1f-9f57-3c1bb6a1d001'
const OTHER_COMPANY_ID = '7d1f0b6a-3e2c-4a8b-9c5d-2e4f6a8b0c12'
const CREDENTIAL_ID = '01948f5e-7a10-7c3e-8d2a-5b7f3e9c0a11'
const UNKNOWN_ID = '01948f5e-7a10-7c3e-8d2a-5b7f3e9c0aff'
const PASSWORD = 'P4ssw0rd-canary-91c2'
const ECR_HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
const ECR_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE'
const ECR_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const ECR_EXPIRES_AT = new Date('2025-01-30T22:00:00.000Z')

/** Seals by writing down whose secret it is, and opens only with that same context, as KMS does. */
class FakeEnvelope implements SecretOpener {
  opened = 0

  seal(plaintext: string, context: SecretContext): SealedSecret {
    const bytes = (text: string) => new TextEncoder().encode(text)
    return {
      version: 1,
      keyId: 'arn:aws:kms:eu-west-1:123456789012:key/fake',
      encryptedKey: bytes(`${context.companyId}/${context.credentialId}`),
      iv: new Uint8Array(12),
      tag: new Uint8Array(16),
      ciphertext: bytes(plaintext),
    }
  }

  async open(sealed: SealedSecret, context: SecretContext): Promise<string> {
    this.opened += 1
    const boundTo = new TextDecoder().decode(sealed.encryptedKey)
    if (boundTo !== `${context.companyId}/${context.credentialId}`)
      throw new Error('InvalidCiphertextException')
    return new TextDecoder().decode(sealed.ciphertext)
  }
}

/** Credentials in memory, keyed by company and id like the table. */
class FakeStore implements CredentialStore {
  readonly items = new Map<string, StoredCredential>()

  put(credential: StoredCredential): void {
    this.items.set(`${credential.companyId}/${credential.id}`, credential)
  }

  async findSealed(companyId: string, id: string): Promise<StoredCredential | undefined> {
    return this.items.get(`${companyId}/${id}`)
  }

  create(): never {
    throw new Error('not used by resolve')
  }
  findIdempotent(): never {
    throw new Error('not used by resolve')
  }
  find(): never {
    throw new Error('not used by resolve')
  }
  list(): never {
    throw new Error('not used by resolve')
  }
  update(): never {
    throw new Error('not used by resolve')
  }
  delete(): never {
    throw new Error('not used by resolve')
  }
}

/** An ECR that hands out a token per region, or fails as told. */
class FakeEcr implements CredentialExchanger {
  readonly requests: ExchangeRequest[] = []
  failure: Error | undefined

  async exchange(request: ExchangeRequest): Promise<ShortLivedLogin> {
    this.requests.push(request)
    if (this.failure) throw this.failure
    if (request.kind === 'googleKey') throw new Error('not an ECR request')
    return { username: 'AWS', password: `ecr-token-${request.region}`, expiresAt: ECR_EXPIRES_AT }
  }
}

function setup(registry: RegistryProvider = 'dockerHub', registryHost?: string) {
  const envelope = new FakeEnvelope()
  const store = new FakeStore()
  const ecr = new FakeEcr()
  const [username, secret] =
    registry === 'ecr' ? [ECR_ACCESS_KEY_ID, ECR_SECRET_ACCESS_KEY] : ['acme-deploy', PASSWORD]
  store.put({
    companyId: COMPANY_ID,
    id: CREDENTIAL_ID,
    name: 'Deploy credential',
    registry,
    username,
    createdAt: '2025-01-30T10:00:00.000Z',
    updatedAt: '2025-01-30T10:00:00.000Z',
    ...(registryHost ? { registryHost } : {}),
    secret: envelope.seal(secret, { companyId: COMPANY_ID, credentialId: CREDENTIAL_ID }),
  })
  // the tokens expire in 2025: the cache's clock is well before that
  const logins = createLoginCache(() => new Date('2025-01-30T10:00:00.000Z'))
  return { ports: { store, opener: envelope, exchanger: ecr, logins }, envelope, store, ecr }
}

const invocation = (image: string, overrides: Record<string, unknown> = {}) => ({
  company_id: COMPANY_ID,
  docker_registry_credential_id: CREDENTIAL_ID,
  image,
  ...overrides,
})

const dockerConfig = (result: ResolveCredentialResult) =>
  result.ok ? JSON.parse(result.docker_config_json) : {}

describe('resolveCredential', () => {
  it('resolves a Docker Hub image to the stored login and a .dockerconfigjson for Docker Hub', async () => {
    // Arrange
    const { ports } = setup('dockerHub')

    // Act
    const result = await resolveCredential(ports, invocation('nginx:1.27'))

    // Assert
    expect(result).toStrictEqual({
      ok: true,
      registry_host: 'docker.io',
      username: 'acme-deploy',
      password: PASSWORD,
      docker_config_json: JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': {
            username: 'acme-deploy',
            password: PASSWORD,
            auth: Buffer.from(`acme-deploy:${PASSWORD}`).toString('base64'),
          },
        },
      }),
    })
  })

  it('keys other registries by their host, port included', async () => {
    // Arrange
    const { ports } = setup('custom')

    // Act
    const result = await resolveCredential(ports, invocation('registry.acme.internal:5000/team/app:2'))

    // Assert
    expect(Object.keys(dockerConfig(result).auths)).toStrictEqual(['registry.acme.internal:5000'])
  })

  it.each<[RegistryProvider, string]>([
    ['dockerHub', 'acme/app:1.0'],
    ['dockerHub', 'index.docker.io/acme/app:1.0'],
    ['github', 'ghcr.io/acme/app:1.0'],
    ['gitlab', 'registry.gitlab.com/acme/group/app:1.0'],
    ['gcr', 'gcr.io/acme-project/app:1.0'],
    ['gcr', 'eu.gcr.io/acme-project/app:1.0'],
    ['gcr', 'europe-west1-docker.pkg.dev/acme-project/images/app:1.0'],
    ['digitalOcean', 'registry.digitalocean.com/acme/app:1.0'],
    ['ecr', `${ECR_HOST}/app:1.0`],
    ['custom', 'registry.acme.internal:5000/app:1.0'],
  ])('accepts a %s credential for %s', async (provider, image) => {
    // Arrange
    const { ports } = setup(provider)

    // Act
    const result = await resolveCredential(ports, invocation(image))

    // Assert
    expect(result.ok).toBe(true)
  })

  it.each<[RegistryProvider, string, string]>([
    ['github', 'acme/app:1.0', 'docker.io'],
    ['dockerHub', 'ghcr.io/acme/app:1.0', 'ghcr.io'],
    ['gitlab', 'ghcr.io/acme/app:1.0', 'ghcr.io'],
    ['gcr', 'ghcr.io/acme/app:1.0', 'ghcr.io'],
    ['digitalOcean', 'registry.gitlab.com/acme/app:1.0', 'registry.gitlab.com'],
    ['ecr', 'ghcr.io/acme/app:1.0', 'ghcr.io'],
    ['github', 'ghcr.io.attacker.example/acme/app:1.0', 'ghcr.io.attacker.example'],
  ])('refuses a %s credential for %s with registry_mismatch', async (provider, image, host) => {
    // Arrange
    const { ports } = setup(provider)

    // Act
    const result = await resolveCredential(ports, invocation(image))

    // Assert
    expect(result).toStrictEqual({
      ok: false,
      error: {
        code: 'registry_mismatch',
        message: `A ${provider} credential cannot be used for images on ${host}; choose a credential for that registry.`,
        retryable: false,
      },
    })
  })

  it('resolves a pinned credential only for images on its pinned host', async () => {
    // Arrange
    const { ports, envelope } = setup('custom', 'registry.acme.internal:5000')

    // Act
    const pinned = await resolveCredential(ports, invocation('registry.acme.internal:5000/app:1'))
    const elsewhere = await resolveCredential(ports, invocation('attacker.example/app:1'))

    // Assert
    expect(pinned.ok).toBe(true)
    expect(elsewhere).toMatchObject({ ok: false, error: { code: 'registry_mismatch' } })
    expect(envelope.opened).toBe(1)
  })

  it('decrypts nothing when the registry does not match', async () => {
    // Arrange
    const { ports, envelope } = setup('github')

    // Act
    await resolveCredential(ports, invocation('acme/app:1.0'))

    // Assert
    expect(envelope.opened).toBe(0)
  })

  it("exchanges an ECR key pair in the image's region and returns the token with its expiry", async () => {
    // Arrange
    const { ports, ecr } = setup('ecr')

    // Act
    const result = await resolveCredential(ports, invocation(`${ECR_HOST}/team/app@sha256:${'a'.repeat(64)}`))

    // Assert
    expect({ result, requests: ecr.requests }).toStrictEqual({
      result: {
        ok: true,
        registry_host: ECR_HOST,
        username: 'AWS',
        password: 'ecr-token-eu-west-1',
        docker_config_json: JSON.stringify({
          auths: {
            [ECR_HOST]: {
              username: 'AWS',
              password: 'ecr-token-eu-west-1',
              auth: Buffer.from('AWS:ecr-token-eu-west-1').toString('base64'),
            },
          },
        }),
        expires_at: '2025-01-30T22:00:00.000Z',
      },
      requests: [
        {
          kind: 'ecrKeyPair',
          region: 'eu-west-1',
          accessKeyId: ECR_ACCESS_KEY_ID,
          secretAccessKey: ECR_SECRET_ACCESS_KEY,
        },
      ],
    })
  })

  it('answers registry_auth_failed when AWS rejects the stored key pair', async () => {
    // Arrange
    const { ports, ecr } = setup('ecr')
    ecr.failure = new RegistryCredentialsRejectedError()

    // Act
    const result = await resolveCredential(ports, invocation(`${ECR_HOST}/app:1.0`))

    // Assert
    expect(result).toStrictEqual({
      ok: false,
      error: {
        code: 'registry_auth_failed',
        message: 'AWS rejected the stored access key pair for ECR.',
        retryable: false,
      },
    })
  })

  it('answers a retryable registry_unavailable when ECR throttles', async () => {
    // Arrange
    const { ports, ecr } = setup('ecr')
    ecr.failure = new DependencyUnavailableError('ECR', 1)

    // Act
    const result = await resolveCredential(ports, invocation(`${ECR_HOST}/app:1.0`))

    // Assert
    expect(result).toStrictEqual({
      ok: false,
      error: {
        code: 'registry_unavailable',
        message: 'The registry is unavailable; retry shortly.',
        retryable: true,
      },
    })
  })

  it("answers not_found for another company's credential", async () => {
    // Arrange
    const { ports } = setup('dockerHub')

    // Act
    const result = await resolveCredential(ports, invocation('nginx', { company_id: OTHER_COMPANY_ID }))

    // Assert
    expect(result).toStrictEqual({
      ok: false,
      error: {
        code: 'not_found',
        message: 'No Docker registry credential with this id exists.',
        retryable: false,
      },
    })
  })

  it("answers another company's id exactly as an unknown id", async () => {
    // Arrange
    const { ports } = setup('dockerHub')

    // Act
    const otherCompany = await resolveCredential(ports, invocation('nginx', { company_id: OTHER_COMPANY_ID }))
    const unknown = await resolveCredential(
      ports,
      invocation('nginx', { docker_registry_credential_id: UNKNOWN_ID }),
    )

    // Assert
    expect(otherCompany).toStrictEqual(unknown)
  })

  it('answers invalid_request listing every failing field', async () => {
    // Arrange
    const { ports } = setup('dockerHub')

    // Act
    const result = await resolveCredential(ports, { company_id: 'acme', image: '', namespace: 'prod' })

    // Assert
    expect(result).toStrictEqual({
      ok: false,
      error: {
        code: 'invalid_request',
        message:
          'The request is invalid: company_id: must be a uuid; docker_registry_credential_id: is required; image: must not be empty; namespace: is not a known property',
        retryable: false,
        issues: [
          { path: 'company_id', message: 'must be a uuid' },
          { path: 'docker_registry_credential_id', message: 'is required' },
          { path: 'image', message: 'must not be empty' },
          { path: 'namespace', message: 'is not a known property' },
        ],
      },
    })
  })

  it('answers invalid_request for an event that is not an object', async () => {
    // Arrange
    const { ports } = setup('dockerHub')

    // Act
    const result = await resolveCredential(ports, 'nginx')

    // Assert
    expect(result.ok === false && result.error.issues).toStrictEqual([
      { path: '', message: 'must be a JSON object' },
    ])
  })

  it('answers invalid_request for an image longer than any valid reference', async () => {
    // Arrange
    const { ports } = setup('dockerHub')

    // Act
    const result = await resolveCredential(ports, invocation(`acme/${'a'.repeat(1100)}`))

    // Assert
    expect(result.ok === false && result.error.issues).toStrictEqual([
      { path: 'image', message: 'must be at most 1024 characters long' },
    ])
  })

  it('answers invalid_image for a malformed reference', async () => {
    // Arrange
    const { ports } = setup('dockerHub')

    // Act
    const result = await resolveCredential(ports, invocation('Acme/App:latest'))

    // Assert
    expect(result.ok === false && result.error.code).toBe('invalid_image')
  })

  it('answers a retryable dependency_unavailable when KMS throttles', async () => {
    // Arrange
    const { ports } = setup('dockerHub')
    ports.opener.open = async () => {
      throw new DependencyUnavailableError('KMS', 1)
    }

    // Act
    const result = await resolveCredential(ports, invocation('nginx'))

    // Assert
    expect(result).toStrictEqual({
      ok: false,
      error: {
        code: 'dependency_unavailable',
        message: 'The credential store is unavailable; retry shortly.',
        retryable: true,
      },
    })
  })

  it('lets an unexpected failure to decrypt propagate to the handler', async () => {
    // Arrange: an envelope bound to another credential, as if copied between items
    const { ports, store, envelope } = setup('dockerHub')
    const stored = store.items.get(`${COMPANY_ID}/${CREDENTIAL_ID}`) as StoredCredential
    store.put({
      ...stored,
      secret: envelope.seal(PASSWORD, { companyId: OTHER_COMPANY_ID, credentialId: UNKNOWN_ID }),
    })

    // Act
    const resolving = resolveCredential(ports, invocation('nginx'))

    // Assert
    await expect(resolving).rejects.toThrow('InvalidCiphertextException')
  })

  it('reads the invocation from the detail of an EventBridge event', async () => {
    // Arrange
    const { ports } = setup('github')
    const event = {
      version: '0',
      id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
      'detail-type': 'DeploymentRequested',
      source: 'platform.deploy',
      account: '123456789012',
      time: '2025-01-30T10:00:00Z',
      region: 'eu-west-1',
      resources: [],
      detail: invocation('ghcr.io/acme/app:1.0'),
    }

    // Act
    const result = await resolveCredential(ports, event)

    // Assert
    expect(result.ok && result.registry_host).toBe('ghcr.io')
  })

  it('never puts the secret into an error result', async () => {
    // Arrange: every failure, including the ones that happen after decrypting
    const failures: ResolveCredentialResult[] = []
    for (const ecrFailure of [
      new RegistryCredentialsRejectedError(),
      new DependencyUnavailableError('ECR', 1),
    ]) {
      const { ports, ecr } = setup('ecr')
      ecr.failure = ecrFailure
      failures.push(await resolveCredential(ports, invocation(`${ECR_HOST}/app:1.0`)))
    }
    const { ports } = setup('dockerHub')

    // Act
    failures.push(
      await resolveCredential(ports, invocation('ghcr.io/acme/app')),
      await resolveCredential(ports, invocation('nginx', { company_id: OTHER_COMPANY_ID })),
      await resolveCredential(ports, invocation('nginx', { secret: PASSWORD })),
      await resolveCredential(ports, invocation(`nginx:${PASSWORD}!`)),
    )

    // Assert
    const serialised = JSON.stringify(failures)
    expect({
      allFailed: failures.every((result) => !result.ok),
      leaks: [PASSWORD, ECR_SECRET_ACCESS_KEY].filter((secret) => serialised.includes(secret)),
    }).toStrictEqual({ allFailed: true, leaks: [] })
  })
})

describe('invocationIds', () => {
  it('returns only uuid-shaped ids, so logs never repeat arbitrary input', () => {
    // Arrange
    const event = { company_id: COMPANY_ID, docker_registry_credential_id: `${PASSWORD}\nfake log line` }

    // Act
    const ids = invocationIds(event)

    // Assert
    expect(ids).toStrictEqual({ company_id: COMPANY_ID })
  })
})
