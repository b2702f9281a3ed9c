import { describe, expect, it } from 'vitest'
import { DependencyUnavailableError, InvalidInputError } from '../../shared/domain/errors.ts'
import {
  checkRegistryCredentials,
  createVerifiedDockerRegistry,
  verificationHost,
  verificationTarget,
} from '../../shared/domain/registry-check.ts'
import { pinnableHost } from '../../shared/domain/registry-host.ts'
import {
  type ExchangeRequest,
  externalIdFor,
  RegistryCredentialsRejectedError,
} from '../../shared/domain/short-lived-credentials.ts'
import { type RegistryVerifier, VerificationFailedError } from '../../shared/domain/verify-credential.ts'
import { fixedClock, InMemoryCredentialStore, RecordingSealer, sequentialIds } from '../support/fakes.ts'
import { testServiceAccountKey } from '../support/service-account-key.ts'

function recordingVerifier(status: 'ok' | 'auth_denied' = 'ok') {
  const calls: Parameters<RegistryVerifier['verify']>[0][] = []
  const verifier: RegistryVerifier = {
    async verify(input) {
      calls.push(input)
      return { status, message: status }
    },
  }
  return { verifier, calls }
}

function recordingExchanger(outcome: 'ok' | Error = 'ok') {
  const requests: ExchangeRequest[] = []
  return {
    requests,
    exchanger: {
      async exchange(request: ExchangeRequest) {
        requests.push(request)
        if (outcome instanceof Error) throw outcome
        const username = request.kind === 'googleKey' ? 'oauth2accesstoken' : 'AWS'
        return { username, password: 'token', expiresAt: new Date() }
      },
    },
  }
}

const COMPANY = '11111111-1111-4111-8111-111111111111'

describe('verificationHost', () => {
  it.each([
    ['dockerHub', 'docker.io'],
    ['github', 'ghcr.io'],
    ['gitlab', 'registry.gitlab.com'],
    ['digitalOcean', 'registry.digitalocean.com'],
    ['gcr', 'gcr.io'],
  ] as const)('defaults a %s credential to %s', (provider, host) => {
    expect(verificationHost(provider, undefined)).toBe(host)
  })

  it.each(['ecr', 'custom'] as const)('requires a pinned host for %s credentials', (provider) => {
    expect(() => verificationHost(provider, undefined)).toThrow(InvalidInputError)
  })

  it('uses the pinned host over the provider default', () => {
    expect(verificationHost('gcr', 'europe-docker.pkg.dev')).toBe('europe-docker.pkg.dev')
  })
})

describe('pinnableHost', () => {
  it("refuses a host outside the provider's", () => {
    expect(() => pinnableHost('github', 'registry.example.com')).toThrow(InvalidInputError)
  })

  it('accepts any host for a custom credential, lower-cased', () => {
    expect(pinnableHost('custom', 'Registry.Example.com:5000')).toBe('registry.example.com:5000')
  })
})

describe('checkRegistryCredentials', () => {
  it('checks an ECR key pair by exchanging it in the host region, without calling the registry', async () => {
    const { verifier, calls } = recordingVerifier()
    const { exchanger, requests } = recordingExchanger()

    const result = await checkRegistryCredentials(
      { verifier, exchanger },
      COMPANY,
      'ecr',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      'AKIAIOSFODNN7EXAMPLE',
      'secret-access-key',
    )

    expect(result.status).toBe('ok')
    expect(requests).toEqual([
      {
        kind: 'ecrKeyPair',
        region: 'eu-west-1',
        accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
        secretAccessKey: 'secret-access-key',
      },
    ])
    expect(calls).toEqual([])
  })

  it.each([
    [new RegistryCredentialsRejectedError(), 'auth_denied'],
    [new DependencyUnavailableError('ECR', 1), 'registry_error'],
  ])('maps a failed ECR exchange (%s) to %s', async (error, status) => {
    const result = await checkRegistryCredentials(
      { verifier: recordingVerifier().verifier, exchanger: recordingExchanger(error).exchanger },
      COMPANY,
      'ecr',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      'AKIAIOSFODNN7EXAMPLE',
      'secret-access-key',
    )

    expect(result.status).toBe(status)
    expect(result.message).not.toContain('secret-access-key')
  })

  it('checks other providers against the registry itself', async () => {
    const { verifier, calls } = recordingVerifier()

    await checkRegistryCredentials(
      { verifier, exchanger: recordingExchanger().exchanger },
      COMPANY,
      'github',
      'ghcr.io',
      'me',
      'pw',
    )

    expect(calls).toEqual([{ registryHost: 'ghcr.io', username: 'me', password: 'pw' }])
  })

  it("checks an ECR role by assuming it with the company's ExternalId, without calling the registry", async () => {
    const { verifier, calls } = recordingVerifier()
    const { exchanger, requests } = recordingExchanger()
    const roleArn = 'arn:aws:iam::123456789012:role/ecr-pull'

    const result = await checkRegistryCredentials(
      { verifier, exchanger },
      COMPANY,
      'ecr',
      '123456789012.dkr.ecr.us-east-2.amazonaws.com',
      'assume-role',
      roleArn,
    )

    expect({ result: result.status, requests, calls }).toEqual({
      result: 'ok',
      requests: [{ kind: 'ecrRole', region: 'us-east-2', roleArn, externalId: externalIdFor(COMPANY) }],
      calls: [],
    })
  })

  it('reports why a role was refused, in the words of the exchange', async () => {
    const refusal = new RegistryCredentialsRejectedError(
      'The role trusts this service without requiring your ExternalId.',
    )

    const result = await checkRegistryCredentials(
      { verifier: recordingVerifier().verifier, exchanger: recordingExchanger(refusal).exchanger },
      COMPANY,
      'ecr',
      '123456789012.dkr.ecr.us-east-2.amazonaws.com',
      'assume-role',
      'arn:aws:iam::123456789012:role/ecr-pull',
    )

    expect(result).toEqual({ status: 'auth_denied', message: refusal.message })
  })

  it('checks a Google key by exchanging it and presenting the access token to the registry', async () => {
    const { verifier, calls } = recordingVerifier()
    const { exchanger, requests } = recordingExchanger()
    const key = testServiceAccountKey()

    const result = await checkRegistryCredentials(
      { verifier, exchanger },
      COMPANY,
      'gcr',
      'europe-docker.pkg.dev',
      '_json_key',
      key.json,
    )

    expect({ result: result.status, kinds: requests.map((request) => request.kind), calls }).toEqual({
      result: 'ok',
      kinds: ['googleKey'],
      calls: [{ registryHost: 'europe-docker.pkg.dev', username: 'oauth2accesstoken', password: 'token' }],
    })
  })

  it('reports what the registry says of a Google access token it refuses', async () => {
    const { verifier } = recordingVerifier('auth_denied')

    const result = await checkRegistryCredentials(
      { verifier, exchanger: recordingExchanger().exchanger },
      COMPANY,
      'gcr',
      'gcr.io',
      '_json_key',
      testServiceAccountKey().json,
    )

    expect(result.status).toBe('auth_denied')
  })
})

describe('createVerifiedDockerRegistry', () => {
  const input = { name: 'n', registry: 'github' as const, username: 'me', secret: 'ghp_secret_value' }

  it('stores the credential once the registry accepts it', async () => {
    const store = new InMemoryCredentialStore()
    const ports = {
      store,
      sealer: new RecordingSealer(),
      clock: fixedClock(),
      newId: sequentialIds(),
      credentialLimit: 1000,
      verifier: recordingVerifier('ok').verifier,
      exchanger: recordingExchanger().exchanger,
    }

    await createVerifiedDockerRegistry(ports, '11111111-1111-4111-8111-111111111111', input, undefined)

    expect(store.items.size).toBe(1)
  })

  it('stores nothing, and seals nothing, when the registry refuses it', async () => {
    const store = new InMemoryCredentialStore()
    const sealer = new RecordingSealer()
    const ports = {
      store,
      sealer,
      clock: fixedClock(),
      newId: sequentialIds(),
      credentialLimit: 1000,
      verifier: recordingVerifier('auth_denied').verifier,
      exchanger: recordingExchanger().exchanger,
    }

    await expect(
      createVerifiedDockerRegistry(ports, '11111111-1111-4111-8111-111111111111', input, undefined),
    ).rejects.toBeInstanceOf(VerificationFailedError)
    expect(store.items.size).toBe(0)
    expect(sealer.sealed).toEqual([])
  })
})

describe('verificationTarget', () => {
  it('is empty without an image', () => {
    expect(verificationTarget('ghcr.io', {})).toEqual({})
  })

  it("parses an image on the credential's host, tag defaulting to latest", () => {
    expect(verificationTarget('ghcr.io', { image: 'ghcr.io/acme/api' })).toEqual({
      image: { repository: 'acme/api', reference: 'latest' },
      imageName: 'ghcr.io/acme/api:latest',
    })
  })

  it('normalises Docker Hub images against the docker.io host', () => {
    expect(verificationTarget('docker.io', { image: 'nginx:1.27', platform: 'linux/arm64/v8' })).toEqual({
      image: {
        repository: 'library/nginx',
        reference: '1.27',
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
      imageName: 'docker.io/library/nginx:1.27',
    })
  })

  it('prefers the digest to the tag', () => {
    const digest = `sha256:${'a'.repeat(64)}`

    expect(
      verificationTarget('registry.example.com:5000', { image: `registry.example.com:5000/app:1@${digest}` }),
    ).toMatchObject({ image: { reference: digest }, imageName: `registry.example.com:5000/app@${digest}` })
  })

  it.each([
    ['evil.example/acme/api:1', 'ghcr.io'],
    ['registry.example.com:5001/app', 'registry.example.com:5000'],
    ['nginx', 'ghcr.io'],
  ])('refuses %s for a credential of %s: the secret goes to its own host only', (image, host) => {
    expect(() => verificationTarget(host, { image })).toThrow(InvalidInputError)
  })

  it('refuses an invalid reference without quoting it', () => {
    try {
      verificationTarget('ghcr.io', { image: 'ghcr.io/Acme/API' })
      expect.unreachable()
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInputError)
      expect(JSON.stringify((error as InvalidInputError).issues)).not.toContain('Acme')
    }
  })

  it('refuses a platform without an image', () => {
    expect(() => verificationTarget('ghcr.io', { platform: 'linux/amd64' })).toThrow(InvalidInputError)
  })
})

describe('checkRegistryCredentials with an image', () => {
  it('checks the pull of an ecr image with the exchanged registry token', async () => {
    const { verifier, calls } = recordingVerifier('ok')
    const { exchanger, requests } = recordingExchanger()
    const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
    const image = { repository: 'app', reference: '1' }

    await checkRegistryCredentials({ verifier, exchanger }, COMPANY, 'ecr', host, 'AKIA', 'secret', image)

    expect(requests).toHaveLength(1)
    expect(calls).toEqual([{ registryHost: host, username: 'AWS', password: 'token', image }])
  })

  it('checks the image directly with the stored login where nothing is exchanged', async () => {
    const { verifier, calls } = recordingVerifier('ok')
    const { exchanger, requests } = recordingExchanger()
    const image = { repository: 'acme/api', reference: '1' }

    await checkRegistryCredentials(
      { verifier, exchanger },
      COMPANY,
      'github',
      'ghcr.io',
      'octocat',
      'ghp_x',
      image,
    )

    expect(requests).toEqual([])
    expect(calls).toEqual([{ registryHost: 'ghcr.io', username: 'octocat', password: 'ghp_x', image }])
  })
})
