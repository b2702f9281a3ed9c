import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { validCreateBody } from '../support/credential-inputs.ts'
import { newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

let stack: TestStack
let keyA: string
let keyB: string
let credentialOfA: Record<string, unknown> & { id: string }

beforeAll(async () => {
  stack = await startTestStack()
  keyA = await stack.mintKey(newCompanyId())
  keyB = await stack.mintKey(newCompanyId())
  credentialOfA = (await stack.request('POST', '/docker-registries', { key: keyA, body: validCreateBody }))
    .body
})

afterAll(async () => {
  await stack?.close()
})

describe("company B against company A's credential", () => {
  it('cannot get it: 404, the same body as for an unknown id', async () => {
    const foreign = await stack.request('GET', `/docker-registries/${credentialOfA.id}`, { key: keyB })
    const unknown = await stack.request('GET', '/docker-registries/0195f1f6-8f5e-7000-8000-0000000000ff', {
      key: keyB,
    })

    expect(foreign.status).toBe(404)
    expect(foreign.body).toEqual(unknown.body)
  })

  it('cannot update it, and it stays unchanged', async () => {
    const response = await stack.request('PATCH', `/docker-registries/${credentialOfA.id}`, {
      key: keyB,
      body: { name: 'taken over', secret: 'attacker-secret' },
    })

    expect(response.status).toBe(404)
    const asA = await stack.request('GET', `/docker-registries/${credentialOfA.id}`, { key: keyA })
    expect(asA.body).toEqual(credentialOfA)
  })

  it('cannot delete it, and it still exists', async () => {
    const response = await stack.request('DELETE', `/docker-registries/${credentialOfA.id}`, { key: keyB })

    expect(response.status).toBe(404)
    expect((await stack.request('GET', `/docker-registries/${credentialOfA.id}`, { key: keyA })).status).toBe(
      200,
    )
  })

  it('cannot see it in its list', async () => {
    const response = await stack.request('GET', '/docker-registries?limit=100', { key: keyB })

    expect(response.body.total).toBe(0)
    expect(JSON.stringify(response.body)).not.toContain(credentialOfA.id)
  })

  it('cannot create into company A by naming it in the body', async () => {
    const response = await stack.request('POST', '/docker-registries', {
      key: keyB,
      body: { ...validCreateBody, company_id: credentialOfA.company_id },
    })

    expect(response.status).toBe(400)
    expect((await stack.request('GET', '/docker-registries', { key: keyA })).body.total).toBe(1)
  })

  it("leaves A's stored item and envelope byte for byte as they were", async () => {
    const before = JSON.stringify(
      (await stack.rawCredentialItems()).find((item) => item.id.S === credentialOfA.id),
    )

    await stack.request('PATCH', `/docker-registries/${credentialOfA.id}`, {
      key: keyB,
      body: { secret: 'x'.repeat(20) },
    })
    await stack.request('DELETE', `/docker-registries/${credentialOfA.id}`, { key: keyB })

    const after = JSON.stringify(
      (await stack.rawCredentialItems()).find((item) => item.id.S === credentialOfA.id),
    )
    expect(after).toBe(before)
  })
})

describe('a company whose id was minted upper-case', () => {
  it('is one partition: what its key creates resolves, and its ExternalId is the lower-case one', async () => {
    // Arrange: a key record naming its company in upper case (an operator typed it so)
    const companyId = newCompanyId()
    const key = await stack.mintKey(companyId.toUpperCase())
    const { handler: resolve } = await import('../../functions/resolve-docker-registry/handler.ts')

    // Act
    const created = await stack.request('POST', '/docker-registries', { key, body: validCreateBody })
    const externalId = await stack.request('GET', '/docker-registries/external-id', { key })
    const resolved = await resolve({
      company_id: companyId,
      docker_registry_credential_id: created.body.id,
      image: 'docker.io/library/nginx:1',
    })

    // Assert
    expect(created.status).toBe(201)
    expect(created.body.company_id).toBe(companyId)
    expect(externalId.body.external_id).toBe(`registry-credentials-${companyId}`)
    expect(resolved).toMatchObject({ ok: true, registry_host: 'docker.io' })
  })
})
