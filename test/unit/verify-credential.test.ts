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
      credentialLimit: 1000,
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
      credentialLimit: 1000,
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
