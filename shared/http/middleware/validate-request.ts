import type { MiddlewareObj, Request } from '@middy/core'
import type { StandardSchemaV1 } from '@standard-schema/spec'
import type { APIGatewayProxyEvent, Context } from 'aws-lambda'
import { type InputIssue, InvalidInputError } from '../../domain/errors.ts'

/** The schemas of one operation's inputs; any Standard Schema (valibot's are). */
export interface RequestSchemas<Body, Query, Path, Headers = undefined> {
  body?: StandardSchemaV1<unknown, Body>
  query?: StandardSchemaV1<unknown, Query>
  path?: StandardSchemaV1<unknown, Path>
  /** Over the (normalised, lower-case) headers; only what the operation reads. */
  headers?: StandardSchemaV1<unknown, Headers>
}

/** What this middleware adds to the Lambda context: the parsed, typed inputs. */
export interface InputContext<Body, Query, Path, Headers = undefined> {
  input: { body: Body; query: Query; path: Path; headers: Headers }
}

function dotPath(issue: StandardSchemaV1.Issue, prefix: string): string {
  const segments = (issue.path ?? []).map((segment) =>
    String(typeof segment === 'object' ? segment.key : segment),
  )
  return [prefix, ...segments].filter(Boolean).join('.')
}

// query parameters arrive as strings; a parameter given twice is refused rather than guessed at.
// no prototype: `?__proto__=1` becomes a parameter (refused as unknown), not a prototype write.
function queryObject(event: APIGatewayProxyEvent, issues: InputIssue[]): Record<string, string> {
  const query: Record<string, string> = Object.create(null)
  const multi = event.multiValueQueryStringParameters ?? {}
  for (const [name, value] of Object.entries(event.queryStringParameters ?? {})) {
    if (Object.hasOwn(multi, name) && (multi[name]?.length ?? 1) > 1)
      issues.push({ path: name, message: 'must be given once' })
    if (value !== undefined) query[name] = value
  }
  return query
}

// every body of this API is a JSON object; valibot's object schemas would take an array for one
// and report its indexes as unknown properties.
function isJsonObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

async function validate<T>(
  schema: StandardSchemaV1<unknown, T> | undefined,
  value: unknown,
  issues: InputIssue[],
  prefix: string,
): Promise<T> {
  if (!schema) return undefined as T
  const result = await schema['~standard'].validate(value)
  if (result.issues) {
    // a body that is not an object at all gets one issue with an empty path: "the body".
    for (const issue of result.issues) issues.push({ path: dotPath(issue, prefix), message: issue.message })
    return undefined as T
  }
  return result.value
}

/**
 * Validates the body, query and path parameters against their schemas, and either puts the
 * parsed values on `context.input` or throws one {@link InvalidInputError} listing every issue.
 */
export function validateRequest<Body = undefined, Query = undefined, Path = undefined, Headers = undefined>(
  schemas: RequestSchemas<Body, Query, Path, Headers>,
): MiddlewareObj<APIGatewayProxyEvent, unknown, Error, Context & InputContext<Body, Query, Path, Headers>> {
  const validateRequestBefore = async (
    request: Request<
      APIGatewayProxyEvent,
      unknown,
      Error,
      Context & InputContext<Body, Query, Path, Headers>
    >,
  ) => {
    const issues: InputIssue[] = []
    const headers = await validate(schemas.headers, request.event.headers ?? {}, issues, '')
    const path = await validate(schemas.path, request.event.pathParameters ?? {}, issues, '')
    const query = await validate(schemas.query, queryObject(request.event, issues), issues, '')
    const rawBody = request.event.body as unknown
    let body: Body = undefined as Body
    if (schemas.body && !isJsonObject(rawBody)) issues.push({ path: '', message: 'must be a JSON object' })
    else body = await validate(schemas.body, rawBody, issues, '')
    if (issues.length > 0) throw new InvalidInputError(issues)
    request.context.input = { body, query, path, headers }
  }
  return { before: validateRequestBefore }
}
