import { routeList } from '../shared/http/routes.ts'

/**
 * Each function's timeout, by its `functions/` folder: what the RegistryFunction construct deploys
 * it with, and what the local stack runs it with. Free of aws-cdk-lib, so `npm start` reads it
 * without loading the CDK.
 */

/** API routes and the rest: well under API Gateway's 29 s integration timeout. */
const DEFAULT_TIMEOUT_SECONDS = 10

// a route that waits for an internal function (the verifier: a 5 s registry deadline, KMS,
// DynamoDB) gets its time plus room for the answer, still under API Gateway's 29 s
const INVOKING_ROUTE_TIMEOUT_SECONDS = 15

const INTERNAL_TIMEOUT_SECONDS: Readonly<Record<string, number>> = {
  // a DynamoDB read, a KMS decrypt, and for ECR a token exchange whose socket timeouts are 3 s
  // to connect and 10 s to answer, with the SDK's retries
  'resolve-docker-registry': 30,
  // the registry check's own 5 s deadline, a KMS decrypt and two DynamoDB calls
  'credential-verifier': 10,
  // one health-check invocation; a run that needs longer hands over to a continuation of
  // itself before this runs out (Lambda's limit is 15 minutes)
  'health-check': 600,
}

/** The function's timeout in seconds. */
export function functionTimeoutSeconds(functionName: string): number {
  const internal = INTERNAL_TIMEOUT_SECONDS[functionName]
  if (internal !== undefined) return internal
  const route = routeList.find((candidate) => candidate.functionName === functionName)
  return (route?.invokes ?? []).length > 0 ? INVOKING_ROUTE_TIMEOUT_SECONDS : DEFAULT_TIMEOUT_SECONDS
}
