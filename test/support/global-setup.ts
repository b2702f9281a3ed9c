import type { TestProject } from 'vitest/node'
import { JavaNotFoundError, startDynamoDb } from '../../local/dynamodb.ts'
import { registrySkipNotice } from './docker-registry.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The test run's one DynamoDB Local; each test file makes a table of its own on it. */
    dynamoDbEndpoint: string
    /** Its JVM's process id (benchmarks read its memory). */
    dynamoDbPid: number
  }
}

/**
 * vitest's global setup: starts one DynamoDB Local for the whole run (a JVM takes seconds to
 * start, so not one per file). Its teardown stops it, and ends the run with one line when tests
 * that need the real registry were skipped, so a green run on a machine without it says so.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let dynamoDb: Awaited<ReturnType<typeof startDynamoDb>>
  try {
    dynamoDb = await startDynamoDb()
  } catch (error) {
    if (!(error instanceof JavaNotFoundError)) throw error
    // one line that says what to install, not a stack trace
    process.stderr.write(`${error.message}\n`)
    process.exit(1)
  }
  project.provide('dynamoDbEndpoint', dynamoDb.endpoint)
  project.provide('dynamoDbPid', dynamoDb.pid ?? 0)
  return async function teardown() {
    await dynamoDb.close()
    const notice = registrySkipNotice()
    if (notice) process.stdout.write(`\n${notice}\n`)
  }
}
