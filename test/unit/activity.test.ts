import { describe, expect, it } from 'vitest'
import { activityItem } from '../../shared/adapters/activity-log.ts'
import { type ActivityEntry, getCredentialActivity } from '../../shared/domain/activity.ts'
import { CredentialNotFoundError } from '../../shared/domain/errors.ts'

const COMPANY = '0195f1f6-8f5e-7000-8000-000000000001'
const ID = '019ac6a2-5225-723e-86b1-6818a883a106'
const actor = { apiKeyId: 'a'.repeat(64), apiKeyName: 'CI' }

function ports(entries: ActivityEntry[], exists: boolean) {
  const asked: number[] = []
  return {
    asked,
    ports: {
      activity: {
        async list(_companyId: string, _id: string, limit: number) {
          asked.push(limit)
          return entries
        },
      },
      store: { find: async () => (exists ? ({ id: ID } as never) : undefined) },
    },
  }
}

describe('getCredentialActivity', () => {
  it('answers the newest 100 records, actors by id and name, scheduled ones without one', async () => {
    const { ports: p, asked } = ports(
      [
        { at: '2026-12-01T03:00:00.000Z', kind: 'verified', result: 'dns', message: 'm', source: 'schedule' },
        {
          at: '2026-12-01T02:00:00.000Z',
          kind: 'updated',
          actor,
          changedFields: ['name'],
          secretRotated: false,
        },
      ],
      true,
    )

    const report = await getCredentialActivity(p, COMPANY, ID)

    expect(asked).toEqual([100])
    expect(report).toEqual({
      id: ID,
      data: [
        {
          at: '2026-12-01T03:00:00.000Z',
          kind: 'verified',
          actor: null,
          result: 'dns',
          message: 'm',
          source: 'schedule',
        },
        {
          at: '2026-12-01T02:00:00.000Z',
          kind: 'updated',
          actor: { api_key_id: 'a'.repeat(64), api_key_name: 'CI' },
          changed_fields: ['name'],
          secret_rotated: false,
        },
      ],
    })
  })

  it('answers the records of a deleted credential', async () => {
    const { ports: p } = ports([{ at: '2026-12-01T02:00:00.000Z', kind: 'updated', actor }], false)

    expect((await getCredentialActivity(p, COMPANY, ID)).data).toHaveLength(1)
  })

  it('is not found for a credential that neither exists nor has records', async () => {
    const { ports: p } = ports([], false)

    await expect(getCredentialActivity(p, COMPANY, ID)).rejects.toBeInstanceOf(CredentialNotFoundError)
  })

  it('is an empty list for a credential with no records yet', async () => {
    const { ports: p } = ports([], true)

    expect(await getCredentialActivity(p, COMPANY, ID)).toEqual({ id: ID, data: [] })
  })
})

describe('activityItem', () => {
  it("lives in the credential's own activity partition and expires 90 days after it happened", () => {
    const item = activityItem(COMPANY, ID, { at: '2026-12-01T02:00:00.000Z', kind: 'updated', actor })

    expect(item.pk).toBe(`ACTIVITY#${COMPANY}#${ID}`)
    expect(item.sk.startsWith('2026-12-01T02:00:00.000Z#')).toBe(true)
    expect(item.expiration).toBe(Date.parse('2026-12-01T02:00:00.000Z') / 1000 + 90 * 86_400)
    expect(item).toMatchObject({ actor_key_id: 'a'.repeat(64), actor_key_name: 'CI' })
  })

  it('gives two records of the same instant different keys', () => {
    const entry: ActivityEntry = { at: '2026-12-01T02:00:00.000Z', kind: 'verified' }

    expect(activityItem(COMPANY, ID, entry).sk).not.toBe(activityItem(COMPANY, ID, entry).sk)
  })
})
