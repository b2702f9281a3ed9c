import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import {
  CreateDockerRegistryInput,
  CredentialPathParameters,
  ListDockerRegistriesQuery,
  UpdateDockerRegistryInput,
} from '../../shared/domain/docker-registry.ts'
import { invalidCreateBodies, validCreateBodies, validCreateBody } from '../support/credential-inputs.ts'

const issuePaths = (result: v.SafeParseResult<typeof CreateDockerRegistryInput>) =>
  (result.issues ?? []).map((issue) => v.getDotPath(issue) ?? '')

describe('CreateDockerRegistryInput', () => {
  // whole-body shapes (arrays, null, scalars) are refused by the HTTP layer before the schema.
  const fieldCases = invalidCreateBodies.filter(({ path }) => path !== '')

  it.each(fieldCases)('refuses $title', ({ body, path }) => {
    const result = v.safeParse(CreateDockerRegistryInput, body)

    expect(result.success).toBe(false)
    expect(issuePaths(result)).toContain(path)
  })

  it.each(validCreateBodies)('accepts $title', ({ body }) => {
    const result = v.safeParse(CreateDockerRegistryInput, body)

    expect(result.issues).toBeUndefined()
    expect(result.output).toEqual(body)
  })

  it('defaults registry to dockerHub', () => {
    const { registry: _, ...body } = validCreateBody

    const result = v.parse(CreateDockerRegistryInput, body)

    expect(result.registry).toBe('dockerHub')
  })

  it('lists every failing field at once', () => {
    const result = v.safeParse(CreateDockerRegistryInput, { name: '', username: '-', secret: 'short' })

    expect(issuePaths(result).sort()).toEqual(['name', 'secret', 'username'])
  })

  it('never quotes the received value in an issue message', () => {
    const canary = `CANARY-${'x'.repeat(130)}`

    const result = v.safeParse(CreateDockerRegistryInput, {
      ...validCreateBody,
      secret: canary,
      extra: canary,
    })

    expect(result.success).toBe(false)
    for (const issue of result.issues ?? []) expect(issue.message).not.toContain('CANARY')
  })
})

describe('UpdateDockerRegistryInput', () => {
  it('accepts an empty body', () => {
    expect(v.parse(UpdateDockerRegistryInput, {})).toEqual({})
  })

  it('does not default registry', () => {
    expect(v.parse(UpdateDockerRegistryInput, { name: 'x' })).toEqual({ name: 'x' })
  })

  it.each(
    invalidCreateBodies.filter(
      ({ title, path, withRegistry }) => !title.endsWith('missing') && path !== '' && !withRegistry,
    ),
  )('refuses $title', ({ body, path }) => {
    const result = v.safeParse(UpdateDockerRegistryInput, body)

    expect(result.success).toBe(false)
    expect((result.issues ?? []).map((issue) => v.getDotPath(issue) ?? '')).toContain(path)
  })
})

describe('ListDockerRegistriesQuery', () => {
  it('defaults to limit 25 and offset 0', () => {
    expect(v.parse(ListDockerRegistriesQuery, {})).toEqual({ limit: 25, offset: 0 })
  })

  it.each([
    [
      { limit: '1', offset: '0' },
      { limit: 1, offset: 0 },
    ],
    [
      { limit: '100', offset: '10000' },
      { limit: 100, offset: 10_000 },
    ],
  ])('accepts the bounds %o', (query, expected) => {
    expect(v.parse(ListDockerRegistriesQuery, query)).toEqual(expected)
  })

  it.each([
    { limit: '0' },
    { limit: '101' },
    { limit: '-1' },
    { limit: '2.5' },
    { limit: 'ten' },
    { limit: '' },
    { offset: '10001' },
    { offset: '-1' },
    { offset: '1e3' },
    { page: '2' },
  ])('refuses %o', (query) => {
    expect(v.safeParse(ListDockerRegistriesQuery, query).success).toBe(false)
  })
})

describe('CredentialPathParameters', () => {
  it.each(['0195f1f6-8f5e-7000-8000-000000000001', 'fb5e5168-4281-4bec-94c5-0d1584e9e657'])(
    'accepts %s',
    (id) => {
      expect(v.safeParse(CredentialPathParameters, { id }).success).toBe(true)
    },
  )

  it.each(['not-a-uuid', 'fb5e5168-4281-4bec-94c5-0d1584e9e65', 'fb5e5168-4281-9bec-94c5-0d1584e9e657', ''])(
    'refuses %j',
    (id) => {
      expect(v.safeParse(CredentialPathParameters, { id }).success).toBe(false)
    },
  )
})
