import { describe, expect, it } from 'vitest'
import type { RegistryProvider } from '../../shared/domain/docker-registry.ts'
import {
  defaultRegistryHost,
  ecrRegion,
  InvalidImageReferenceError,
  isHostAllowedForProvider,
  parseImageReference,
  parseRegistryHost,
  registryApiHost,
} from '../../shared/domain/image-reference.ts'

const SHA256 = `sha256:${'a1'.repeat(32)}`

describe('parseImageReference', () => {
  it.each([
    ['nginx', { registryHost: 'docker.io', repository: 'library/nginx' }],
    ['nginx:1.27-alpine', { registryHost: 'docker.io', repository: 'library/nginx', tag: '1.27-alpine' }],
    ['user/app:1.0', { registryHost: 'docker.io', repository: 'user/app', tag: '1.0' }],
    ['docker.io/nginx', { registryHost: 'docker.io', repository: 'library/nginx' }],
    ['index.docker.io/user/app', { registryHost: 'docker.io', repository: 'user/app' }],
    ['registry-1.docker.io/redis', { registryHost: 'docker.io', repository: 'library/redis' }],
    ['ghcr.io/org/app:tag', { registryHost: 'ghcr.io', repository: 'org/app', tag: 'tag' }],
    [`host:5000/app@${SHA256}`, { registryHost: 'host:5000', repository: 'app', digest: SHA256 }],
    [
      `host:5000/app:v2@${SHA256}`,
      { registryHost: 'host:5000', repository: 'app', tag: 'v2', digest: SHA256 },
    ],
    ['localhost/app', { registryHost: 'localhost', repository: 'app' }],
    ['localhost:5000/app', { registryHost: 'localhost:5000', repository: 'app' }],
    ['[::1]:5000/team/app:latest', { registryHost: '[::1]:5000', repository: 'team/app', tag: 'latest' }],
    ['Registry.Example.COM/a/b', { registryHost: 'registry.example.com', repository: 'a/b' }],
    [
      'registry.gitlab.com/group/sub-group/project',
      { registryHost: 'registry.gitlab.com', repository: 'group/sub-group/project' },
    ],
    ['example.com/a__b/c.d/e---f', { registryHost: 'example.com', repository: 'a__b/c.d/e---f' }],
  ])('parses %s', (reference, expected) => {
    expect(parseImageReference(reference)).toEqual(expected)
  })

  it('reads a port-like suffix on a single name as a tag, as docker does', () => {
    expect(parseImageReference('app:5000')).toEqual({
      registryHost: 'docker.io',
      repository: 'library/app',
      tag: '5000',
    })
  })

  it('treats an upper-case first component as a registry host, as docker does', () => {
    expect(parseImageReference('MyHost/app').registryHost).toBe('myhost')
  })

  it.each([
    ['an empty string', ''],
    ['an upper-case repository', 'Nginx'],
    ['an upper-case path component', 'user/App'],
    ['a registry without repository', 'ghcr.io/'],
    ['an empty path component', 'ghcr.io/org//app'],
    ['a leading separator', 'ghcr.io/-app'],
    ['a trailing separator', 'app_'],
    ['three underscores', 'a___b'],
    ['a tag starting with a dot', 'app:.1'],
    ['a tag of 129 characters', `app:${'t'.repeat(129)}`],
    ['an empty tag', 'app:'],
    ['an unknown digest algorithm', `app@md5:${'a'.repeat(32)}`],
    ['a short sha256 digest', `app@sha256:${'a'.repeat(63)}`],
    ['an upper-case sha256 digest', `app@sha256:${'A'.repeat(64)}`],
    ['an empty digest', 'app@'],
    ['a port out of range', 'host:70000/app'],
    ['a malformed host', '-host.com/app'],
    ['a 64-hex image id', 'a'.repeat(64)],
    ['a name longer than 255 characters', `example.com/${'a/'.repeat(121)}abcd`],
    ['an input longer than any valid reference', 'a'.repeat(2000)],
    ['whitespace', 'nginx latest'],
    ['a scheme', 'https://ghcr.io/org/app'],
  ])('refuses %s', (_, reference) => {
    expect(() => parseImageReference(reference)).toThrow(InvalidImageReferenceError)
  })

  it('accepts a name of exactly 255 characters', () => {
    const repository = `${'a'.repeat(100)}/${'b'.repeat(100)}/${'c'.repeat(41)}`
    const reference = `example.com/${repository}`
    expect(reference).toHaveLength(255)

    expect(parseImageReference(reference).repository).toBe(repository)
  })

  it('counts the library/ prefix of a Docker Hub name against the length limit', () => {
    // docker.io/library/ + 238 = 256 characters once normalised
    expect(() => parseImageReference('a'.repeat(238))).toThrow(InvalidImageReferenceError)
  })

  it('never quotes the reference in its error message', () => {
    const reference = 'ghcr.io/Secret-Looking-Name'

    expect(() => parseImageReference(reference)).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('Secret') }),
    )
  })
})

describe('parseRegistryHost', () => {
  it.each([
    ['ghcr.io', { hostname: 'ghcr.io' }],
    ['Host.Example:5000', { hostname: 'host.example', port: 5000 }],
    ['[fe80::1]:443', { hostname: 'fe80::1', port: 443 }],
    ['127.0.0.1', { hostname: '127.0.0.1' }],
  ])('splits %s', (host, expected) => {
    expect(parseRegistryHost(host)).toEqual(expected)
  })

  it.each([[''], ['host:0'], ['host:'], ['ho st'], ['host/path'], ['user@host'], ['::1'], ['[::1']])(
    'refuses %j',
    (host) => {
      expect(parseRegistryHost(host)).toBeUndefined()
    },
  )
})

describe('isHostAllowedForProvider', () => {
  it.each<[RegistryProvider, string, boolean]>([
    ['dockerHub', 'docker.io', true],
    ['dockerHub', 'index.docker.io', true],
    ['dockerHub', 'registry-1.docker.io', true],
    ['dockerHub', 'ghcr.io', false],
    ['dockerHub', 'docker.io.evil.com', false],
    ['github', 'ghcr.io', true],
    ['github', 'GHCR.IO', true],
    ['github', 'docker.io', false],
    ['github', 'ghcr.io:443', false],
    ['github', 'evilghcr.io', false],
    ['gitlab', 'registry.gitlab.com', true],
    ['gitlab', 'gitlab.com', false],
    ['digitalOcean', 'registry.digitalocean.com', true],
    ['digitalOcean', 'docker.io', false],
    ['gcr', 'gcr.io', true],
    ['gcr', 'eu.gcr.io', true],
    ['gcr', 'us-central1-docker.pkg.dev', true],
    ['gcr', 'europe-west4-docker.pkg.dev', true],
    ['gcr', 'docker.pkg.dev', false],
    ['gcr', 'gcr.io.evil.com', false],
    ['gcr', 'a.b.gcr.io', false],
    ['ecr', '123456789012.dkr.ecr.us-east-1.amazonaws.com', true],
    ['ecr', '123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn', true],
    ['ecr', '123456789012.dkr.ecr.us-gov-west-1.amazonaws.com', true],
    ['ecr', '12345678901.dkr.ecr.us-east-1.amazonaws.com', false],
    ['ecr', '123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com', false],
    ['ecr', 'public.ecr.aws', false],
    ['ecr', 'docker.io', false],
    ['custom', 'registry.example.com:5000', true],
    ['custom', 'docker.io', true],
    ['custom', '[::1]:5000', true],
    ['custom', 'not a host', false],
  ])('%s on %s is %s', (provider, host, expected) => {
    expect(isHostAllowedForProvider(provider, host)).toBe(expected)
  })

  it('refuses a GitHub credential for a Docker Hub image', () => {
    const { registryHost } = parseImageReference('nginx:latest')

    expect(isHostAllowedForProvider('github', registryHost)).toBe(false)
  })
})

describe('defaultRegistryHost', () => {
  it.each<[RegistryProvider, string | undefined]>([
    ['dockerHub', 'docker.io'],
    ['github', 'ghcr.io'],
    ['gitlab', 'registry.gitlab.com'],
    ['digitalOcean', 'registry.digitalocean.com'],
    ['gcr', 'gcr.io'],
    ['ecr', undefined],
    ['custom', undefined],
  ])('of %s is %s', (provider, expected) => {
    expect(defaultRegistryHost(provider)).toBe(expected)
  })

  it('is always a host its provider accepts', () => {
    for (const provider of ['dockerHub', 'github', 'gitlab', 'digitalOcean', 'gcr'] as const) {
      expect(isHostAllowedForProvider(provider, defaultRegistryHost(provider) ?? '')).toBe(true)
    }
  })
})

describe('registryApiHost', () => {
  it.each([
    ['docker.io', 'registry-1.docker.io'],
    ['index.docker.io', 'registry-1.docker.io'],
    ['ghcr.io', 'ghcr.io'],
    ['registry.example.com:5000', 'registry.example.com:5000'],
  ])('of %s is %s', (host, expected) => {
    expect(registryApiHost(host)).toBe(expected)
  })
})

describe('ecrRegion', () => {
  it.each([
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com', 'eu-west-1'],
    ['123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn', 'cn-northwest-1'],
    ['123456789012.dkr.ecr-fips.us-east-2.amazonaws.com', 'us-east-2'],
    ['ghcr.io', undefined],
  ])('of %s is %s', (host, expected) => {
    expect(ecrRegion(host)).toBe(expected)
  })
})
