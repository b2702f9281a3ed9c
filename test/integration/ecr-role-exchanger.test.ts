import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import {
  createEcrRoleExchanger,
  TRUST_WITHOUT_EXTERNAL_ID,
} from '../../shared/adapters/ecr-role-exchanger.ts'
import { createEcrTokenExchanger } from '../../shared/adapters/ecr-token-exchanger.ts'
import { createStsRoleAssumer, ROLE_SESSION_NAME } from '../../shared/adapters/sts-role-assumer.ts'
import { DependencyUnavailableError } from '../../shared/domain/errors.ts'
import {
  externalIdFor,
  RegistryCredentialsRejectedError,
} from '../../shared/domain/short-lived-credentials.ts'
import { type EcrFake, startEcrFake } from '../support/ecr-fake.ts'
import { type StsFake, startStsFake } from '../support/sts-fake.ts'

const COMPANY = '0195f1f6-8f5e-7000-8000-000000000001'
const OTHER_COMPANY = '6f1c8c1e-2f43-4a4e-9d1a-6f2b1c0d9e11'
const ROLE = 'arn:aws:iam::123456789012:role/registry-credentials-pull'
const CARELESS_ROLE = 'arn:aws:iam::123456789012:role/trusts-without-external-id'
const UNTRUSTING_ROLE = 'arn:aws:iam::123456789012:role/trusts-someone-else'
const CALLER = {
  accessKeyId: 'AKIARESOLVEROLE00001',
  secretAccessKey: 'resolve-role-secret-access-key-00000000',
}
const EXPIRES_AT = new Date('2026-12-02T10:00:00.000Z')

let sts: StsFake
let ecr: EcrFake
const issued: Record<string, string> = {}
const saved: Record<string, string | undefined> = {}
const exchanger = createEcrRoleExchanger({ assumer: createStsRoleAssumer(), ecr: createEcrTokenExchanger() })

beforeAll(async () => {
  sts = await startStsFake({
    callerKeyPairs: { [CALLER.accessKeyId]: CALLER.secretAccessKey },
    roles: {
      [ROLE]: { externalId: externalIdFor(COMPANY) },
      [CARELESS_ROLE]: {},
      [UNTRUSTING_ROLE]: { trustsCaller: false },
    },
    issuedKeyPairs: issued,
    expiration: new Date(Date.now() + 15 * 60 * 1000),
  })
  ecr = await startEcrFake({ keyPairs: issued, expiresAt: EXPIRES_AT })
  // the function's own credentials sign AssumeRole; the sdk's endpoint settings aim at the fakes
  const environment = {
    AWS_ACCESS_KEY_ID: CALLER.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CALLER.secretAccessKey,
    AWS_SESSION_TOKEN: '',
    AWS_ENDPOINT_URL_STS: sts.url,
    AWS_ENDPOINT_URL_ECR: ecr.url,
    AWS_MAX_ATTEMPTS: '1',
  }
  for (const [name, value] of Object.entries(environment)) {
    saved[name] = process.env[name]
    process.env[name] = value
  }
})

beforeEach(() => {
  sts.requests.length = 0
  ecr.requests.length = 0
})

afterAll(async () => {
  await sts.close()
  await ecr.close()
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

const request = (roleArn = ROLE, companyId = COMPANY) => ({
  region: 'eu-central-1',
  roleArn,
  externalId: externalIdFor(companyId),
})

describe('createEcrRoleExchanger', () => {
  it('assumes the role with the ExternalId and gets a registry token with its credentials', async () => {
    const login = await exchanger.exchange(request())

    expect(login).toEqual({
      username: 'AWS',
      password: ecr.passwordFor('eu-central-1'),
      expiresAt: EXPIRES_AT,
    })
  })

  it('signs AssumeRole with its own credentials at STS in the image region, naming the service', async () => {
    await exchanger.exchange(request())

    expect(sts.requests.at(-1)).toEqual({
      action: 'AssumeRole',
      version: '2011-06-15',
      roleArn: ROLE,
      roleSessionName: ROLE_SESSION_NAME,
      externalId: externalIdFor(COMPANY),
      durationSeconds: '900',
      region: 'eu-central-1',
      service: 'sts',
      accessKeyId: CALLER.accessKeyId,
      signatureValid: true,
    })
  })

  it("calls ECR with the role's temporary credentials and session token, not its own", async () => {
    await exchanger.exchange(request())

    const [call] = ecr.requests
    expect(call).toMatchObject({ region: 'eu-central-1', service: 'ecr', signatureValid: true })
    expect(call?.accessKeyId).toMatch(/^ASIA/)
    expect(call?.sessionToken).toMatch(/^FwoGZXIvYXdzE/)
  })

  it('probes first with an ExternalId no company has, which a proper trust refuses', async () => {
    await exchanger.exchange(request())

    const [probe, real] = sts.requests
    expect(probe?.externalId).toMatch(/^registry-credentials-probe-[0-9a-f-]{36}$/)
    expect(real?.externalId).toBe(externalIdFor(COMPANY))
  })

  it('refuses a role whose trust does not require the ExternalId, without calling ECR', async () => {
    const outcome = await exchanger.exchange(request(CARELESS_ROLE)).catch((error: unknown) => error)

    expect(outcome).toEqual(new RegistryCredentialsRejectedError(TRUST_WITHOUT_EXTERNAL_ID))
    expect(ecr.requests).toHaveLength(0)
  })

  it("is refused another company's role: its trust requires that company's ExternalId", async () => {
    const outcome = await exchanger.exchange(request(ROLE, OTHER_COMPANY)).catch((error: unknown) => error)

    expect(outcome).toBeInstanceOf(RegistryCredentialsRejectedError)
    expect(ecr.requests).toHaveLength(0)
  })

  it('reports a role that does not trust this service as rejected credentials', async () => {
    await expect(exchanger.exchange(request(UNTRUSTING_ROLE))).rejects.toBeInstanceOf(
      RegistryCredentialsRejectedError,
    )
  })

  it('reports STS throttling as an unavailable dependency', async () => {
    sts.failNext('Throttling')

    await expect(exchanger.exchange(request())).rejects.toBeInstanceOf(DependencyUnavailableError)
  })

  it('reports ECR throttling after the role was assumed as an unavailable dependency', async () => {
    ecr.failNext('ThrottlingException')

    await expect(exchanger.exchange(request())).rejects.toBeInstanceOf(DependencyUnavailableError)
  })
})
