import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { generateApiKey, hashApiKey } from '../../shared/domain/api-key.ts'
import { type EventReceiver, startEventReceiver } from '../support/event-receiver.ts'
import { runNpmStart, type StartedLocalStack } from '../support/npm-start.ts'
import { captureOutput, newCompanyId, startTestStack, type TestStack } from '../support/test-stack.ts'

let stack: TestStack
let receiver: EventReceiver

beforeAll(async () => {
  receiver = await startEventReceiver()
  stack = await startTestStack({ eventTargetUrl: receiver.url })
})

afterAll(async () => {
  await stack?.close()
  await receiver?.close()
})

const DETAIL_FIELDS = [
  'company_id',
  'created_at',
  'event_id',
  'id',
  'name',
  'registry',
  'updated_at',
  'username',
]

/** The events the receiver accepted for one credential, once `count` of them have arrived. */
async function eventsOf(id: string, count: number): Promise<any[]> {
  const mine = (bodies: any[]) => bodies.filter((body) => body.detail?.id === id)
  await receiver.waitFor((bodies) => mine(bodies).length >= count)
  return mine(receiver.accepted())
}

// everything the poller has read is handed over and every delivery made: nothing more can come
async function settled(): Promise<void> {
  for (let attempt = 0; attempt < 400 && !(await stack.changeEvents.caughtUp()); attempt += 1) {
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
  await stack.events.delivery.idle()
}

async function create(secret: string, key?: string) {
  const response = await stack.request('POST', '/docker-registries', {
    body: { name: 'Events Hub', registry: 'dockerHub', username: 'events-user', secret },
    ...(key ? { key } : {}),
  })
  expect(response.status).toBe(201)
  return response.body as { id: string; company_id: string; created_at: string; updated_at: string }
}

describe('change events from the local table stream', () => {
  it('publishes exactly one DockerRegistryCredentialCreated event for a create, as documented', async () => {
    const credential = await create('created-secret-1')

    const [event, ...more] = await eventsOf(credential.id, 1)
    await settled()

    expect(more).toEqual([])
    expect(receiver.accepted().filter((body) => body.detail?.id === credential.id)).toHaveLength(1)
    expect(event).toMatchObject({
      source: 'registry-credentials',
      'detail-type': 'DockerRegistryCredentialCreated',
      detail: {
        company_id: credential.company_id,
        id: credential.id,
        name: 'Events Hub',
        registry: 'dockerHub',
        username: 'events-user',
        created_at: credential.created_at,
        updated_at: credential.updated_at,
      },
    })
    // and who created it: the API key's id and name, never the key
    expect(Object.keys(event.detail).sort()).toEqual([...DETAIL_FIELDS, 'actor'].sort())
    expect(event.detail.actor).toEqual({
      api_key_id: hashApiKey(stack.apiKey),
      api_key_name: 'local development',
    })
    expect(JSON.stringify(event)).not.toContain(stack.apiKey)
    expect(JSON.stringify(event)).not.toContain('created-secret-1')
  })

  it('publishes an Updated event for a new name and another for a new secret, in write order', async () => {
    const credential = await create('first-secret-2')
    await stack.request('PATCH', `/docker-registries/${credential.id}`, { body: { name: 'Renamed Hub' } })
    const rotated = await stack.request('PATCH', `/docker-registries/${credential.id}`, {
      body: { secret: 'rotated-secret-2' },
    })

    const events = await eventsOf(credential.id, 3)
    await settled()

    expect(receiver.accepted().filter((body) => body.detail?.id === credential.id)).toHaveLength(3)
    expect(events.map((event) => event['detail-type'])).toEqual([
      'DockerRegistryCredentialCreated',
      'DockerRegistryCredentialUpdated',
      'DockerRegistryCredentialUpdated',
    ])
    expect(events[1].detail.name).toBe('Renamed Hub')
    expect(events[2].detail).toMatchObject({ name: 'Renamed Hub', updated_at: rotated.body.updated_at })
    expect(new Set(events.map((event) => event.detail.event_id)).size).toBe(3)
    expect(JSON.stringify(events)).not.toMatch(/first-secret-2|rotated-secret-2|envelope|ciphertext/)
  })

  it('publishes a Deleted event with deleted_at for a delete', async () => {
    const credential = await create('deleted-secret-3')
    const deleted = await stack.request('DELETE', `/docker-registries/${credential.id}`)
    expect(deleted.status).toBe(200)

    const events = await eventsOf(credential.id, 2)
    await settled()

    expect(receiver.accepted().filter((body) => body.detail?.id === credential.id)).toHaveLength(2)
    expect(events[1]).toMatchObject({
      'detail-type': 'DockerRegistryCredentialDeleted',
      detail: { id: credential.id, name: 'Events Hub', deleted_at: expect.stringMatching(/Z$/) },
    })
    expect(Object.keys(events[1].detail).sort()).toEqual([...DETAIL_FIELDS, 'deleted_at'].sort())
  })

  it("publishes each company's change under its own company, and nothing for API key writes", async () => {
    const otherCompany = newCompanyId()
    const before = receiver.accepted().length
    const otherKey = await stack.mintKey(otherCompany)
    const theirs = await create('other-company-4', otherKey)

    const [event] = await eventsOf(theirs.id, 1)
    await settled()

    expect(event.detail.company_id).toBe(otherCompany)
    // the key minted above is in the stream too, but the mapping's filter keeps it out
    expect(receiver.accepted().slice(before)).toEqual([event])
  })

  it('prints one line per event: detail type, company and id only', async () => {
    const output = captureOutput()
    let credential: { id: string; company_id: string }
    try {
      credential = await create('printed-secret-5')
      await eventsOf(credential.id, 1)
      await settled()
    } finally {
      output.restore()
    }

    const lines = output
      .text()
      .split('\n')
      .filter((line) => line.startsWith('event '))
    expect(lines).toContain(
      `event DockerRegistryCredentialCreated company ${credential.company_id} id ${credential.id}`,
    )
    expect(output.text()).not.toMatch(/Events Hub|events-user|printed-secret-5/)
  })
})

describe('change events across a restart of npm start with LOCAL_DATA_DIR', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'registry-credentials-events-'))
  let restartReceiver: EventReceiver

  beforeAll(async () => {
    restartReceiver = await startEventReceiver()
  })

  afterAll(async () => {
    await restartReceiver?.close()
    rmSync(dataDir, { recursive: true, force: true })
  })

  async function createThrough(started: StartedLocalStack, name: string): Promise<string> {
    const response = await fetch(`${started.baseUrl}/docker-registries`, {
      method: 'POST',
      headers: { authorization: `Bearer ${started.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name, username: 'restart-user', secret: 'restart-secret-1' }),
    })
    expect(response.status).toBe(201)
    return ((await response.json()) as { id: string }).id
  }

  it('reads on from where it stopped: what was published before is not published again', async () => {
    const { key } = generateApiKey()
    const env = { LOCAL_DATA_DIR: dataDir, LOCAL_API_KEY: key, LOCAL_EVENT_TARGET_URL: restartReceiver.url }
    const createdIn = (id: string) => (bodies: any[]) =>
      bodies.filter(
        (body) => body.detail?.id === id && body['detail-type'] === 'DockerRegistryCredentialCreated',
      )

    const first = await runNpmStart(env)
    const before = await createThrough(first, 'before the restart')
    await restartReceiver.waitFor((bodies) => createdIn(before)(bodies).length === 1)
    await first.stop()

    const second = await runNpmStart(env)
    try {
      // the stream is read in order: once this event is in, any republished earlier one would be too
      const after = await createThrough(second, 'after the restart')
      await restartReceiver.waitFor((bodies) => createdIn(after)(bodies).length === 1)
    } finally {
      await second.stop()
    }

    expect(createdIn(before)(restartReceiver.accepted())).toHaveLength(1)
  })
})
