import ajvModule from 'ajv/dist/2020.js'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { CreateDockerRegistryInput, UpdateDockerRegistryInput } from '../../shared/domain/docker-registry.ts'
import { buildOpenApiDocument } from '../../shared/http/openapi.ts'

// the published JSON Schema of the create body, as a client's validator (ajv) compiles it
const Ajv2020 = ajvModule.default
const published = (buildOpenApiDocument().components.schemas as Record<string, object>)
  .CreateDockerRegistryInput as object
const validatePublished = new Ajv2020({ strict: false }).compile(published)

const EMOJI = '\u{1F433}' // one code point, two UTF-16 code units
const body = (fields: Record<string, string>) => ({
  name: 'n',
  username: 'me',
  secret: 'a-secret-token',
  ...fields,
})

describe('lengths, counted in code points as the published JSON Schema counts them', () => {
  it.each([
    ['name of 255 emoji', true, { name: EMOJI.repeat(255) }],
    ['name of 256 emoji', false, { name: EMOJI.repeat(256) }],
    ['name of 128 emoji', true, { name: EMOJI.repeat(128) }],
    ['secret of 4 emoji (8 code units)', false, { secret: EMOJI.repeat(4) }],
    ['secret of 7 emoji and nothing else', false, { secret: EMOJI.repeat(7) }],
    ['secret of 8 emoji', true, { secret: EMOJI.repeat(8) }],
    ['secret of 128 emoji', true, { secret: EMOJI.repeat(128) }],
    ['secret of 129 emoji', false, { secret: EMOJI.repeat(129) }],
    ['secret of 127 letters and an emoji', true, { secret: `${'x'.repeat(127)}${EMOJI}` }],
  ])('%s: accepted %s, by the API and the published schema alike', (_what, accepted, fields) => {
    const input = body(fields)

    expect(v.safeParse(CreateDockerRegistryInput, input).success).toBe(accepted)
    expect(validatePublished(input)).toBe(accepted)
  })
})

describe('text no strict JSON parser can read back', () => {
  it.each([
    ['name', 'a lone high surrogate', 'My \uD83D registry'],
    ['name', 'a lone low surrogate', '\uDC33 registry'],
    ['name', 'NUL', 'My\u0000registry'],
    ['secret', 'a lone surrogate', 'a-secret-\uD800-token'],
    ['secret', 'NUL', 'a-secret-\u0000-token'],
  ])('refuses a %s with %s, naming the field and not quoting it', (field, _what, value) => {
    for (const schema of [CreateDockerRegistryInput, UpdateDockerRegistryInput]) {
      const result = v.safeParse(schema, body({ [field]: value }))

      expect(result.success).toBe(false)
      const issues = (result.issues ?? []).map((issue) => ({
        path: v.getDotPath(issue),
        message: issue.message,
      }))
      expect(issues).toContainEqual({
        path: field,
        message: 'must not contain NUL or unpaired surrogate characters',
      })
      expect(JSON.stringify(issues)).not.toContain(JSON.stringify(value).slice(1, -1))
    }
  })

  it('accepts a name whose surrogates are paired', () => {
    expect(v.safeParse(CreateDockerRegistryInput, body({ name: `whale ${EMOJI}` })).success).toBe(true)
  })
})
