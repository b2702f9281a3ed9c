import { describe, expect, it } from 'vitest'
import { LocalSettingError, localStackSettings } from '../../local/settings.ts'

describe('localStackSettings', () => {
  it('takes a DynamoDB Local already running on loopback, and a table name', () => {
    expect(
      localStackSettings({ LOCAL_DYNAMODB_ENDPOINT: 'http://127.0.0.1:8123', LOCAL_TABLE: 'mine-1' }),
    ).toMatchObject({ dynamoDbEndpoint: 'http://127.0.0.1:8123', tableName: 'mine-1' })
  })

  it.each([
    'http://10.0.0.5:8000',
    'http://dynamodb.eu-west-1.amazonaws.com',
    'not a url',
    'ftp://127.0.0.1:1',
    'http://127.0.0.1:8000/x',
  ])('refuses the DynamoDB endpoint %j, naming LOCAL_DYNAMODB_ENDPOINT', (endpoint) => {
    const read = () => localStackSettings({ LOCAL_DYNAMODB_ENDPOINT: endpoint })

    expect(read).toThrow(LocalSettingError)
    expect(read).toThrow(/LOCAL_DYNAMODB_ENDPOINT must be/)
  })

  it('refuses a table name DynamoDB would refuse', () => {
    expect(() => localStackSettings({ LOCAL_TABLE: 'a b' })).toThrow(/LOCAL_TABLE must be/)
  })
})
