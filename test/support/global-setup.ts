import type { TestProject } from 'vitest/node'
import { JavaNotFoundError, startDynamoDb } from '../../local/dynamodb.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test run's one DynamoDB Local; each test file makes a table of its own on it. */
    dynamoDbEndpoint: string
    /** Its JVM's process id (benchmarks read its memory). */
    dynamoDbPid: number
  }
}

/**
 * vitest global setup: starts one DynamoDB Local for the whole run (a JVM takes seconds to start,
 * so not one per file) and stops it afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  try {
    const dynamoDb = await startDynamoDb()
    project.provide('dynamoDbEndpoint', dynamoDb.endpoint)
    project.provide('dynamoDbPid', dynamoDb.pid ?? 0)
    return () => dynamoDb.close()
  } catch (error) {
    if (!(error instanceof JavaNotFoundError)) throw error
    // one line that says what to install, not a stack trace
    process.stderr.write(`${error.message}\n`)
    process.exit(1)
  }
}
