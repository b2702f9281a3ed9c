import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { createEcrTokenExchanger } from '../../shared/adapters/ecr-token-exchanger.ts'
import { DependencyUnavailableError } from '../../shared/domain/errors.ts'
import { RegistryCredentialsRejectedError } from '../../shared/domain/resolve-credential.ts'
import { type EcrFake, GET_AUTHORIZATION_TOKEN_TARGET, startEcrFake } from '../support/ecr-fake.ts'

const ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE'
const SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY'
const EXPIRES_AT = new Date('2025-01-30T22:00:00.000Z')

let fake: EcrFake
const saved = { endpoint: process.env.AWS_ENDPOINT_URL_ECR, attempts: process.env.AWS_MAX_ATTEMPTS }
const exchanger = createEcrTokenExchanger()

beforeAll(async () => {
  fake = await startEcrFake({ keyPairs: { [ACCESS_KEY_ID]: SECRET_ACCESS_KEY }, expiresAt: EXPIRES_AT })
  // the sdk's own endpoint setting, exactly as a deployment would override it
  process.env.AWS_ENDPOINT_URL_ECR = fake.url
  // one attempt, so the throttling and outage cases do not wait out the sdk's backoff
  process.env.AWS_MAX_ATTEMPTS = '1'
})

beforeEach(() => {
  fake.requests.length = 0
})

afterAll(async () => {
  await fake.close()
  for (const [name, value] of [
    ['AWS_ENDPOINT_URL_ECR', saved.endpoint],
    ['AWS_MAX_ATTEMPTS', saved.attempts],
  ] as const) {
    if (value === undefined) delete process.env[name]
    else process.env[name] = value
  }
})

describe('createEcrTokenExchanger', () => {
  it('exchanges the key pair for the registry login ECR hands out', async () => {
    // Arrange
    const request = { region: 'eu-central-1', accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }

    // Act
    const token = await exchanger.exchange(request)

    // Assert
    expect(token).toStrictEqual({
      username: 'AWS',
      password: fake.passwordFor('eu-central-1'),
      expiresAt: EXPIRES_AT,
    })
  })

  it("signs GetAuthorizationToken with the stored key pair in the image's region", async () => {
    // Arrange
    const request = {
      region: 'ap-southeast-2',
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
    }

    // Act
    await exchanger.exchange(request)

    // Assert
    expect(fake.requests).toStrictEqual([
      {
        target: GET_AUTHORIZATION_TOKEN_TARGET,
        region: 'ap-southeast-2',
        service: 'ecr',
        accessKeyId: ACCESS_KEY_ID,
        signatureValid: true,
      },
    ])
  })

  it('reports an unknown access key as rejected credentials', async () => {
    // Arrange
    const request = {
      region: 'eu-central-1',
      accessKeyId: 'AKIAUNKNOWNKEY000000',
      secretAccessKey: SECRET_ACCESS_KEY,
    }

    // Act
    const exchange = exchanger.exchange(request)

    // Assert
    await expect(exchange).rejects.toBeInstanceOf(RegistryCredentialsRejectedError)
  })

  it('reports a wrong secret key as rejected credentials', async () => {
    // Arrange
    const request = {
      region: 'eu-central-1',
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: 'not-the-secret-access-key-of-this-pair00',
    }

    // Act
    const exchange = exchanger.exchange(request)

    // Assert
    await expect(exchange).rejects.toBeInstanceOf(RegistryCredentialsRejectedError)
  })

  it('reports throttling as an unavailable dependency', async () => {
    // Arrange
    fake.failNext('ThrottlingException')
    const request = { region: 'eu-central-1', accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }

    // Act
    const exchange = exchanger.exchange(request)

    // Assert
    await expect(exchange).rejects.toBeInstanceOf(DependencyUnavailableError)
  })

  it('reports an ECR server error as an unavailable dependency', async () => {
    // Arrange
    fake.failNext('ServerException')
    const request = { region: 'eu-central-1', accessKeyId: ACCESS_KEY_ID, secretAccessKey: SECRET_ACCESS_KEY }

    // Act
    const exchange = exchanger.exchange(request)

    // Assert
    await expect(exchange).rejects.toBeInstanceOf(DependencyUnavailableError)
  })

  it('sends nothing for a region that is not an AWS region name', async () => {
    // Arrange
    const request = {
      region: 'attacker.example/x',
      accessKeyId: ACCESS_KEY_ID,
      secretAccessKey: SECRET_ACCESS_KEY,
    }

    // Act
    const outcome = await exchanger.exchange(request).catch((error: unknown) => error)

    // Assert
    expect({ rejected: outcome instanceof Error, requests: fake.requests.length }).toStrictEqual({
      rejected: true,
      requests: 0,
    })
  })
})
