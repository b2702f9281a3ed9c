import { Match } from 'aws-cdk-lib/assertions'
import type { CfnStage } from 'aws-cdk-lib/aws-apigateway'
import { beforeAll, describe, expect, it } from 'vitest'
import {
  COMMON_RULES_COUNTED,
  RATE_LIMITED_BODY_KEY,
  WEB_ACL_RULES,
} from '../../infra/constructs/api-web-acl.ts'
import { type SynthesizedApp, synthesizeTestApp } from './infra-app.ts'

type Rule = { Name: string; Priority: number; Action?: any; OverrideAction?: any; Statement: any }

function webAclOf(synthesized: SynthesizedApp): { Properties: Record<string, any> } {
  const acls = Object.values(synthesized.api.findResources('AWS::WAFv2::WebACL'))
  expect(acls).toHaveLength(1)
  return acls[0] as { Properties: Record<string, any> }
}

function ruleNamed(synthesized: SynthesizedApp, name: string): Rule {
  const rule = (webAclOf(synthesized).Properties.Rules as Rule[]).find((candidate) => candidate.Name === name)
  if (!rule) throw new Error(`no rule ${name}`)
  return rule
}

describe('ApiWebAcl', () => {
  let dev: SynthesizedApp

  beforeAll(() => {
    dev = synthesizeTestApp()
  })

  it('is a REGIONAL web ACL that allows by default', () => {
    expect(webAclOf(dev).Properties).toMatchObject({ Scope: 'REGIONAL', DefaultAction: { Allow: {} } })
  })

  it('is associated with the REST API stage', () => {
    const stage = dev.stacks.api.api.deploymentStage.node.defaultChild as CfnStage
    const stageId = dev.stacks.api.getLogicalId(stage)
    const associations = Object.values(dev.api.findResources('AWS::WAFv2::WebACLAssociation'))

    expect(associations).toHaveLength(1)
    expect(JSON.stringify(associations[0]?.Properties.ResourceArn)).toContain(stageId)
    expect(associations[0]?.Properties.WebACLArn).toEqual({
      'Fn::GetAtt': [expect.stringMatching(/^WebAcl/), 'Arn'],
    })
    expect(associations[0]?.DependsOn).toContain(stageId)
  })

  it('limits each Authorization header value, untransformed, to the dev stage setting', () => {
    expect(ruleNamed(dev, WEB_ACL_RULES.perKey)).toMatchObject({
      Priority: 0,
      Statement: {
        RateBasedStatement: {
          Limit: 300,
          EvaluationWindowSec: 60,
          AggregateKeyType: 'CUSTOM_KEYS',
          CustomKeys: [
            { Header: { Name: 'authorization', TextTransformations: [{ Priority: 0, Type: 'LOWERCASE' }] } },
          ],
        },
      },
    })
  })

  it('answers both rate limits with 429, the Sevalla body and Retry-After of one window', () => {
    for (const name of [WEB_ACL_RULES.perKey, WEB_ACL_RULES.perIp]) {
      expect(ruleNamed(dev, name).Action).toEqual({
        Block: {
          CustomResponse: {
            ResponseCode: 429,
            CustomResponseBodyKey: RATE_LIMITED_BODY_KEY,
            ResponseHeaders: [{ Name: 'retry-after', Value: '60' }],
          },
        },
      })
    }
    const body = webAclOf(dev).Properties.CustomResponseBodies[RATE_LIMITED_BODY_KEY]
    expect(body.ContentType).toBe('APPLICATION_JSON')
    expect(JSON.parse(body.Content)).toEqual({
      message: 'Too many requests',
      status: 429,
      data: { code: 'rate_limited', message: expect.stringContaining('Retry-After') },
    })
  })

  it('limits each source IP higher than each key', () => {
    expect(ruleNamed(dev, WEB_ACL_RULES.perIp).Statement).toEqual({
      RateBasedStatement: { Limit: 1500, EvaluationWindowSec: 60, AggregateKeyType: 'IP' },
    })
  })

  it('takes the limits and window of the prod stage from cdk.json', () => {
    const prod = synthesizeTestApp({ context: { stage: 'prod' } })

    expect(ruleNamed(prod, WEB_ACL_RULES.perKey).Statement.RateBasedStatement).toMatchObject({
      Limit: 1200,
      EvaluationWindowSec: 60,
    })
    expect(ruleNamed(prod, WEB_ACL_RULES.perIp).Statement.RateBasedStatement.Limit).toBe(6000)
  })

  it('takes another window and its Retry-After from the context', () => {
    const custom = synthesizeTestApp({
      context: {
        stages: {
          dev: {
            stackNamePrefix: 'RegistryCredentials-dev',
            apiStageName: 'dev',
            secretsKeyAlias: 'alias/registry-credentials/dev/secrets',
            eventBusName: 'registry-credentials-dev',
            rateLimitPerKey: 50,
            rateLimitPerIp: 500,
            rateLimitWindowSeconds: 300,
          },
        },
      },
    })

    const rule = ruleNamed(custom, WEB_ACL_RULES.perKey)
    expect(rule.Statement.RateBasedStatement).toMatchObject({ Limit: 50, EvaluationWindowSec: 300 })
    expect(rule.Action.Block.CustomResponse.ResponseHeaders).toEqual([{ Name: 'retry-after', Value: '300' }])
  })

  it('runs the AWS Common rules, counting only the ones that would block valid requests', () => {
    expect(ruleNamed(dev, WEB_ACL_RULES.common)).toMatchObject({
      OverrideAction: { None: {} },
      Statement: {
        ManagedRuleGroupStatement: {
          VendorName: 'AWS',
          Name: 'AWSManagedRulesCommonRuleSet',
          RuleActionOverrides: Object.keys(COMMON_RULES_COUNTED).map((name) => ({
            Name: name,
            ActionToUse: { Count: {} },
          })),
        },
      },
    })
    expect(Object.keys(COMMON_RULES_COUNTED)).toEqual(
      expect.arrayContaining(['SizeRestrictions_BODY', 'NoUserAgent_HEADER']),
    )
  })

  it('runs the AWS KnownBadInputs rules, all blocking', () => {
    const rule = ruleNamed(dev, WEB_ACL_RULES.knownBadInputs)

    expect(rule.Statement.ManagedRuleGroupStatement).toEqual({
      VendorName: 'AWS',
      Name: 'AWSManagedRulesKnownBadInputsRuleSet',
    })
    expect(rule.OverrideAction).toEqual({ None: {} })
  })

  it('publishes CloudWatch metrics for the web ACL and every rule, and keeps no sampled request (they hold API keys)', () => {
    dev.api.hasResourceProperties('AWS::WAFv2::WebACL', {
      VisibilityConfig: {
        CloudWatchMetricsEnabled: true,
        MetricName: 'web-acl',
        SampledRequestsEnabled: false,
      },
      Rules: Match.arrayWith(
        Object.values(WEB_ACL_RULES).map((name) =>
          Match.objectLike({
            VisibilityConfig: {
              CloudWatchMetricsEnabled: true,
              MetricName: name,
              SampledRequestsEnabled: false,
            },
          }),
        ),
      ),
    })
  })
})
