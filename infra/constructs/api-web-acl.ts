import type { Stage } from 'aws-cdk-lib/aws-apigateway'
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2'
import { Construct } from 'constructs'
import { MAX_BODY_BYTES } from '../../shared/http/middleware/body-size-limit.ts'
import { type RateLimit, rateLimitedBody, rateLimitRetryAfterSeconds } from '../../shared/http/rate-limit.ts'

/** Key of the 429 body in the web ACL's custom response bodies. */
export const RATE_LIMITED_BODY_KEY = 'rate-limited'

/** Names of the web ACL's rules, which are also their CloudWatch metric names. */
export const WEB_ACL_RULES = {
  perKey: 'rate-limit-per-api-key',
  perIp: 'rate-limit-per-ip',
  common: 'aws-common',
  knownBadInputs: 'aws-known-bad-inputs',
} as const

/**
 * Rules of AWSManagedRulesCommonRuleSet that only count, with why each would block a valid
 * Sevalla request. The body of a create or update carries the registry secret, opaque text the
 * caller does not choose freely (a registry or a cloud issues it: a token, a password, a Google
 * service-account key of up to 16 KiB): a content rule on the body could refuse a real
 * credential with a 403 nobody can fix.
 */
export const COMMON_RULES_COUNTED: Readonly<Record<string, string>> = {
  SizeRestrictions_BODY: `blocks bodies over 8 KB; the API accepts ${MAX_BODY_BYTES / 1024} KiB and answers a larger body itself with 413 in the Sevalla shape`,
  NoUserAgent_HEADER:
    'the Sevalla contract needs no User-Agent; scripts and SDK clients without one are valid callers',
  CrossSiteScripting_BODY: 'a secret may contain <, > or quotes; nothing of a body is ever rendered as HTML',
  GenericLFI_BODY: 'a secret may contain ../ ; the API reads no file named by a request',
  GenericRFI_BODY: 'a secret may look like a URL with an address; no request names a URL the API fetches',
  EC2MetaDataSSRF_BODY:
    'a secret may contain an address; registry hosts are vetted by the SSRF-safe verifier, never by the body',
}

/** Properties of an {@link ApiWebAcl}. */
export interface ApiWebAclProps {
  /** Name of the web ACL, unique in the account and region; also its CloudWatch `WebACL` dimension. */
  readonly name: string
  /** The REST API stage the web ACL guards. */
  readonly stage: Stage
  /** Requests one `Authorization` header value may make per window. */
  readonly perKey: RateLimit
  /** Requests one source IP may make per window, whatever key it sends; above `perKey.limit`. */
  readonly perIpLimit: number
}

/**
 * The REGIONAL WAFv2 web ACL of the public API, associated with its stage:
 * 1. a per-API-key rate limit (the raw `Authorization` header as a custom aggregation key, so
 *    one company's burst never eats the stage throttle of the others), answering 429 in the
 *    Sevalla error shape with `Retry-After`;
 * 2. a higher per-IP limit over all traffic: requests without a key (which rule 1 cannot count)
 *    and a client spraying made-up keys, each of which would get a bucket of its own in rule 1;
 * 3. AWS managed Common and KnownBadInputs rule groups, with the rules in
 *    {@link COMMON_RULES_COUNTED} in count mode.
 * API Gateway's stage throttle stays the ceiling above all of it.
 */
export class ApiWebAcl extends Construct {
  /** The web ACL. */
  readonly webAcl: CfnWebACL

  constructor(scope: Construct, id: string, props: ApiWebAclProps) {
    super(scope, id)
    if (props.perIpLimit <= props.perKey.limit)
      throw new Error('the per-IP limit must be above the per-key limit')

    const rateLimited: CfnWebACL.RuleActionProperty = {
      block: {
        customResponse: {
          responseCode: 429,
          customResponseBodyKey: RATE_LIMITED_BODY_KEY,
          responseHeaders: [{ name: 'retry-after', value: String(rateLimitRetryAfterSeconds(props.perKey)) }],
        },
      },
    }

    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      name: props.name,
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      description: 'Per-API-key and per-IP rate limits and AWS managed rules of the registry credentials API',
      visibilityConfig: visibility('web-acl'),
      customResponseBodies: {
        [RATE_LIMITED_BODY_KEY]: {
          contentType: 'APPLICATION_JSON',
          content: JSON.stringify(rateLimitedBody()),
        },
      },
      rules: [
        {
          name: WEB_ACL_RULES.perKey,
          priority: 0,
          action: rateLimited,
          statement: {
            rateBasedStatement: {
              limit: props.perKey.limit,
              evaluationWindowSec: props.perKey.windowSeconds,
              aggregateKeyType: 'CUSTOM_KEYS',
              // the header value lower-cased: the API accepts one spelling per key but any case
              // of the scheme, and each spelling must not get a bucket of its own (two keys
              // differing only in case would share one: 256 random bits make that moot). A
              // request without the header is not counted here, only by the per-IP rule.
              customKeys: [
                {
                  header: {
                    name: 'authorization',
                    textTransformations: [{ priority: 0, type: 'LOWERCASE' }],
                  },
                },
              ],
            },
          },
          visibilityConfig: visibility(WEB_ACL_RULES.perKey),
        },
        {
          name: WEB_ACL_RULES.perIp,
          priority: 1,
          action: rateLimited,
          statement: {
            rateBasedStatement: {
              limit: props.perIpLimit,
              evaluationWindowSec: props.perKey.windowSeconds,
              aggregateKeyType: 'IP',
            },
          },
          visibilityConfig: visibility(WEB_ACL_RULES.perIp),
        },
        managedRuleGroup(
          WEB_ACL_RULES.common,
          2,
          'AWSManagedRulesCommonRuleSet',
          Object.keys(COMMON_RULES_COUNTED),
        ),
        // every rule of KnownBadInputs blocks: Log4j and Java deserialization payloads, localhost
        // Host headers and exploitable paths are never part of a valid Sevalla request.
        managedRuleGroup(WEB_ACL_RULES.knownBadInputs, 3, 'AWSManagedRulesKnownBadInputsRuleSet', []),
      ],
    })

    const association = new CfnWebACLAssociation(this, 'StageAssociation', {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    })
    // the stage must exist before WAF can attach to it
    association.node.addDependency(props.stage)
  }
}

// no sampled requests: WAF keeps each sampled request's headers, the Authorization header with
// the raw API key among them, for anyone with wafv2:GetSampledRequests to read.
function visibility(metricName: string): CfnWebACL.VisibilityConfigProperty {
  return { cloudWatchMetricsEnabled: true, metricName, sampledRequestsEnabled: false }
}

function managedRuleGroup(
  name: string,
  priority: number,
  groupName: string,
  countedRules: readonly string[],
): CfnWebACL.RuleProperty {
  return {
    name,
    priority,
    overrideAction: { none: {} },
    statement: {
      managedRuleGroupStatement: {
        vendorName: 'AWS',
        name: groupName,
        ...(countedRules.length > 0
          ? { ruleActionOverrides: countedRules.map((rule) => ({ name: rule, actionToUse: { count: {} } })) }
          : {}),
      },
    },
    visibilityConfig: visibility(name),
  }
}
