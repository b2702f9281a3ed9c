import { App } from 'aws-cdk-lib'
import { buildRegistryCredentialsApp } from './registry-credentials-app.ts'

// the CDK app entry (`cdk.json` runs it with tsx); select a stage with `-c stage=<name>`.
buildRegistryCredentialsApp(new App())
