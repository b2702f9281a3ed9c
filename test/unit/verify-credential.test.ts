import { describe, expect, it } from 'vitest'
import { DependencyUnavailableError, InvalidInputError } from '../../shared/domain/errors.ts'
import { pinnableHost } from '../../shared/domain/registry-host.ts'
import type { EcrTokenRequest } from '../../shared/domain/resolve-credential.ts'
import { RegistryCredentialsRejectedError } from '../../shared/domain/resolve-credential.ts'
import {
  checkRegistryCredentials,
  createVerifiedDockerRegistry,
  type RegistryVerifier,
  VerificationFailedError,
  verificationHost,
  verificationTarget,
} from '../../shared/domain/verify-credential.ts'
import { fixedClock, InMemoryCredentialStore, RecordingSealer, sequentialIds } from '../support/fakes.ts'

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

function ecrTokens(outcome: 'ok' | Error = 'ok') {
  const requests: EcrTokenRequest[] = []
  return {
    requests,
    ecrTokens: {
      async exchange(request: EcrTokenRequest) {
        requests.push(request)
        if (outcome instanceof Error) throw outcome
        return { username: 'AWS', password: 'token', expiresAt: new Date() }
      },
    },
  }
}

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
    const { ecrTokens: exchanger, requests } = ecrTokens()

    const result = await checkRegistryCredentials(
      { verifier, ecrTokens: exchanger },
      'ecr',
      '123456789012.dkr.ecr.eu-west-1.amazonaws.com',
      'AKIAIOSFODNN7EXAMPLE',
      'secret-access-key',
    )

    expect(result.status).toBe('ok')
    expect(requests).toEqual([
      { region: 'eu-west-1', accessKeyId: 'AKIAIOSFODNN7EXAMPLE', secretAccessKey: 'secret-access-key' },
    ])
    expect(calls).toEqual([])
  })

  it.each([
    [new RegistryCredentialsRejectedError(), 'auth_denied'],
    [new DependencyUnavailableError('ECR', 1), 'registry_error'],
  ])('maps a failed ECR exchange (%s) to %s', async (error, status) => {
    const result = await checkRegistryCredentials(
      { verifier: recordingVerifier().verifier, ecrTokens: ecrTokens(error).ecrTokens },
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
      { verifier, ecrTokens: ecrTokens().ecrTokens },
      'github',
      'ghcr.io',
      'me',
      'pw',
    )

    expect(calls).toEqual([{ registryHost: 'ghcr.io', username: 'me', password: 'pw' }])
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
      verifier: recordingVerifier('ok').verifier,
      ecrTokens: ecrTokens().ecrTokens,
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
      verifier: recordingVerifier('auth_denied').verifier,
      ecrTokens: ecrTokens().ecrTokens,
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
    const tokens = ecrTokens()
    const host = '123456789012.dkr.ecr.eu-west-1.amazonaws.com'
    const image = { repository: 'app', reference: '1' }

    await checkRegistryCredentials(
      { verifier, ecrTokens: tokens.ecrTokens },
      'ecr',
      host,
      'AKIA',
      'secret',
      image,
    )

    expect(tokens.requests).toEqual([{ region: 'eu-west-1', accessKeyId: 'AKIA', secretAccessKey: 'secret' }])
    expect(calls).toEqual([{ registryHost: host, username: 'AWS', password: 'token', image }])
  })
})
