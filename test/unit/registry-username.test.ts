import ajvModule from 'ajv/dist/2020.js'
import * as v from 'valibot'
import { beforeEach, describe, expect, it } from 'vitest'
import { CreateDockerRegistryInput, type RegistryProvider } from '../../shared/domain/docker-registry.ts'
import { createDockerRegistry, updateDockerRegistry } from '../../shared/domain/docker-registry-use-cases.ts'
import { InvalidInputError } from '../../shared/domain/errors.ts'
import {
  providerUsernameRefusal,
  type UsernameFormat,
  usernameFormatTable,
} from '../../shared/domain/registry-username.ts'
import { usernameRefusal } from '../../shared/domain/username-characters.ts'
import { buildOpenApiDocument } from '../../shared/http/openapi.ts'
import { fixedClock, InMemoryCredentialStore, RecordingSealer, sequentialIds } from '../support/fakes.ts'
import { testServiceAccountKey } from '../support/service-account-key.ts'

const Ajv2020 = ajvModule.default

const create = (registry: RegistryProvider, username: string, secret = 'a-registry-secret') =>
  v.safeParse(CreateDockerRegistryInput, { name: 'n', registry, username, secret })

const messages = (result: ReturnType<typeof create>) =>
  (result.issues ?? []).map((issue) => `${v.getDotPath(issue)}: ${issue.message}`)

// every format of the table, with the credential a provider really issues
const realUsernames: [RegistryProvider, string][] = [
  ['gitlab', 'gitlab+deploy-token-123'],
  ['gitlab', 'project_123_bot_4f2a9c0e1d3b5a7f9e8d6c4b2a0f1e3d'],
  ['gitlab', 'group_42_bot'],
  ['gcr', '_json_key'],
  ['gcr', '_json_key_base64'],
  ['gcr', 'oauth2accesstoken'],
  ['ecr', 'AWS'],
  ['ecr', 'AKIAIOSFODNN7EXAMPLE'],
  ['ecr', `AKIA${'A'.repeat(124)}`],
  ['digitalOcean', `dop_v1_${'0123456789abcdef'.repeat(4)}`],
  ['digitalOcean', 'ops@example.com'],
  ['custom', 'acme+robot'],
  ['custom', 'robot$project+ci'],
  ['custom', '$oauthtoken'],
  ['custom', '00000000-0000-0000-0000-000000000000'],
  ['custom', 'x'.repeat(255)],
  ['custom', 'user@example.com'],
  ['github', 'octocat'],
  ['dockerHub', 'my-docker-user'],
]

describe('username formats', () => {
  it.each(realUsernames)('a %s credential accepts %s', (registry, username) => {
    const secret = registry === 'gcr' && username.startsWith('_json_key') ? keySecret(username) : undefined

    const result = create(registry, username, secret)

    expect(messages(result)).toEqual([])
  })

  it.each(
    usernameFormatTable().flatMap((format) =>
      format.providers.map((provider) => [provider, format] as [RegistryProvider, UsernameFormat]),
    ),
  )('a %s credential accepts the example of "%s"', (provider, format) => {
    expect(format.pattern.test(format.example)).toBe(true)
    expect(providerUsernameRefusal(provider, format.example)).toBeUndefined()
  })

  it.each(['u', 'u'.repeat(39), 'a.b_c-d', 'AKIAIOSFODNN7EXAMPLE', 'my-docker-user'])(
    'every provider accepts %s, as the contract does',
    (username) => {
      for (const registry of [
        'gcr',
        'ecr',
        'dockerHub',
        'github',
        'gitlab',
        'digitalOcean',
        'custom',
      ] as const) {
        expect(providerUsernameRefusal(registry, username), registry).toBeUndefined()
      }
    },
  )
})

describe('username refusals', () => {
  it.each([
    ['empty', '', 'must not be empty'],
    ['a space', 'my user', 'must not contain whitespace'],
    ['a tab', 'my\tuser', 'must not contain whitespace'],
    ['a line break', 'my\nuser', 'must not contain whitespace'],
    ['a NUL', 'my\u0000user', 'must not contain control characters'],
    ['DEL', 'my\u007fuser', 'must not contain control characters'],
    [
      'a colon',
      'user:name',
      'must not contain ":" (Basic auth puts it between the username and the password)',
    ],
    ['a non-ASCII letter', 'josé', 'must be printable ASCII'],
    ['256 characters', 'x'.repeat(256), 'must be at most 255 characters long'],
  ])('refuses a username with %s, for any provider', (_title, username, message) => {
    expect(usernameRefusal(username)).toBe(message)
    expect(messages(create('custom', username))).toEqual([`username: ${message}`])
  })

  it.each([
    ['dockerHub', 'gitlab+deploy-token-123'],
    ['github', '_json_key'],
    ['gitlab', 'robot$project+ci'],
    ['ecr', 'akiaiosfodnn7example-lower-case-and-long-enough'],
    ['gcr', 'gitlab+deploy-token-1'],
    ['digitalOcean', `dop_v1_${'g'.repeat(64)}`],
  ] as const)('refuses a %s credential with %s, naming what it expects', (registry, username) => {
    const [message] = messages(create(registry, username))

    expect(message).toMatch(
      new RegExp(`^username: is not a ${registry} username: expected the Sevalla v3 pattern`),
    )
  })

  it('never quotes the refused username', () => {
    const canary = 'CANARY-robot$x+y'

    const refusals = [...messages(create('dockerHub', canary)), ...messages(create('custom', `${canary} `))]

    expect(refusals).toHaveLength(2)
    for (const message of refusals) expect(message).not.toContain('CANARY')
  })
})

function keySecret(username: string) {
  const { json } = testServiceAccountKey()
  return username === '_json_key_base64' ? Buffer.from(json).toString('base64') : json
}

describe('updateDockerRegistry, username and secret rules', () => {
  const companyId = '11111111-1111-4111-8111-111111111111'
  let ports: Parameters<typeof createDockerRegistry>[0]
  beforeEach(() => {
    ports = {
      store: new InMemoryCredentialStore(),
      sealer: new RecordingSealer(),
      clock: fixedClock(),
      newId: sequentialIds(),
      credentialLimit: 1000,
    }
  })
  const issuesOf = async (update: Promise<unknown>) => {
    const error = await update.catch((caught: unknown) => caught)
    return error instanceof InvalidInputError ? error.issues : error
  }

  it('refuses a username the stored registry does not issue', async () => {
    const created = await createDockerRegistry(ports, companyId, {
      name: 'Hub',
      registry: 'dockerHub',
      username: 'me',
      secret: 'sup3r-secret',
    })

    const issues = await issuesOf(
      updateDockerRegistry(ports, companyId, created.id, { username: 'org+robot' }),
    )

    expect(issues).toEqual([
      { path: 'username', message: expect.stringMatching(/^is not a dockerHub username/) },
    ])
  })

  it('accepts a GitLab deploy token username for a gitlab credential', async () => {
    const created = await createDockerRegistry(ports, companyId, {
      name: 'GitLab',
      registry: 'gitlab',
      username: 'me',
      secret: 'sup3r-secret',
    })

    const updated = await updateDockerRegistry(ports, companyId, created.id, {
      username: 'gitlab+deploy-token-7',
    })

    expect(updated.username).toBe('gitlab+deploy-token-7')
  })

  it('checks a new secret against the stored registry and username', async () => {
    const created = await createDockerRegistry(ports, companyId, {
      name: 'Hub',
      registry: 'dockerHub',
      username: 'me',
      secret: 'sup3r-secret',
    })

    const issues = await issuesOf(
      updateDockerRegistry(ports, companyId, created.id, { secret: 's'.repeat(129) }),
    )

    expect(issues).toEqual([
      { path: 'secret', message: 'must be 8 to 128 characters long, without line breaks' },
    ])
  })

  it('needs a new secret when the username makes an ECR credential a role', async () => {
    const created = await createDockerRegistry(ports, companyId, {
      name: 'ECR',
      registry: 'ecr',
      username: 'AKIAIOSFODNN7EXAMPLE',
      secret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    })

    const issues = await issuesOf(
      updateDockerRegistry(ports, companyId, created.id, { username: 'assume-role' }),
    )

    expect(issues).toEqual([
      { path: 'secret', message: expect.stringContaining('is required with this username') },
    ])
  })
})

describe('CreateDockerRegistryInput, bodies that are not objects', () => {
  it.each([[null], ['x'], [42]])('refuses %j as a whole, without a field check throwing', (body) => {
    const result = v.safeParse(CreateDockerRegistryInput, body)

    expect((result.issues ?? []).map((issue) => v.getDotPath(issue) ?? '')).toEqual([''])
  })
})

describe('the published create schema and the service-account key extension', () => {
  const validatePublished = new Ajv2020({ strict: false }).compile(
    (buildOpenApiDocument().components.schemas as Record<string, object>).CreateDockerRegistryInput as object,
  )
  const keyFile = testServiceAccountKey().json

  it.each([
    ['a gcr key file with _json_key', { registry: 'gcr', username: '_json_key', secret: keyFile }, true],
    ['the same key file on dockerHub', { registry: 'dockerHub', username: 'me', secret: keyFile }, false],
    [
      'the same key file with oauth2accesstoken',
      { registry: 'gcr', username: 'oauth2accesstoken', secret: keyFile },
      false,
    ],
    [
      'a contract secret on gcr with _json_key_base64',
      { registry: 'gcr', username: '_json_key_base64', secret: 'x'.repeat(20) },
      true,
    ],
  ] as const)('%s: the published schema accepts it %s', (_title, fields, accepted) => {
    expect(validatePublished({ name: 'n', ...fields })).toBe(accepted)
  })

  it('accepts in the API what the published schema accepts, for a key file', () => {
    expect(
      v.safeParse(CreateDockerRegistryInput, {
        name: 'n',
        registry: 'gcr',
        username: '_json_key',
        secret: keyFile,
      }).success,
    ).toBe(true)
  })
})
