import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry'
import { DependencyUnavailableError } from '../domain/errors.ts'

/** How long a client should wait before retrying after a dependency failed transiently. */
export const RETRY_AFTER_SECONDS = 1

/**
 * Returns a `.catch` handler that turns throttling, server and network failures of an AWS call
 * (after the SDK's own retries) into {@link DependencyUnavailableError}, and rethrows anything else.
 */
export function translateAwsError(dependency: string): (error: unknown) => never {
  return (error: unknown): never => {
    if (error instanceof Error) {
      const sdkError = error as Parameters<typeof isThrottlingError>[0]
      if (isThrottlingError(sdkError) || isTransientError(sdkError) || isServerError(sdkError)) {
        throw new DependencyUnavailableError(dependency, RETRY_AFTER_SECONDS, { cause: error })
      }
    }
    throw error
  }
}
