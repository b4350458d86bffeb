// What the principal running `npm run deploy` must be allowed to do, derived from the rendered
// CloudFormation templates, and a small evaluator of deploy/deployer-policy.json against it.
//
// serverless deploys with the caller's credentials (no CloudFormation service role), so each
// resource's create, update and delete handler acts as the deployer. @aws-cdk/aws-service-spec
// does not carry the handlers' permissions (its resources have properties, attributes, ARN
// templates — no `handlers`), nor do cfn-lint's bundled schemas; the lists below follow the
// CloudFormation registry schemas' `handlers.{create,update,delete}.permissions` for each type,
// restricted to what the template uses: no KMS key (KmsKeyArn), EFS, layers, code signing
// config, Secrets Manager (the proxy authenticates with IAM) or S3 versioning/replication.

type Json = any;

export interface Need {
  action: string;
  resource: string;
  /** Request context for the policy's conditions (iam:PassedToService, iam:PolicyARN). */
  context?: Record<string, string>;
  /** Why: the resource (logical id) or the command that needs it. */
  for: string;
}

export interface Target {
  partition: string;
  region: string;
  account: string;
  service: string;
  stage: string;
}

/** A stand-in for the ids AWS generates at create time. */
const FAKE = { apiId: 'a1b2c3d4e5', suffix: 'ABCDEFGH1234', uuid: '11111111-2222-3333-4444-555555555555' };

/** Resolves the intrinsics the templates use in names (pseudo parameters, Ref, Join, Select/Split). */
function resolver(template: Json, t: Target) {
  const stackName = `${t.service}-${t.stage}`;
  const names: Record<string, string> = {};
  const resolve = (v: Json): string => {
    if (typeof v === 'string' || typeof v === 'number') return String(v);
    if (v.Ref === 'AWS::Region') return t.region;
    if (v.Ref === 'AWS::AccountId') return t.account;
    if (v.Ref === 'AWS::Partition') return t.partition;
    if (v.Ref) return physicalName(v.Ref);
    if (v['Fn::Join']) return v['Fn::Join'][1].map(resolve).join(v['Fn::Join'][0]);
    if (v['Fn::Select']) {
      const [i, list] = v['Fn::Select'];
      return (list['Fn::Split'] ? resolve(list['Fn::Split'][1]).split(list['Fn::Split'][0]) : list.map(resolve))[i];
    }
    if (v['Fn::GetAtt']?.[1] === 'Arn') return arnOf(v['Fn::GetAtt'][0]);
    throw new Error(`cannot resolve ${JSON.stringify(v)}`);
  };
  /** The name CloudFormation gives a resource: its name property, else stack-logicalId-suffix. */
  function physicalName(id: string): string {
    if (names[id]) return names[id];
    const r = template.Resources[id];
    if (!r) throw new Error(`no resource ${id}`);
    const p = r.Properties ?? {};
    const own = { 'AWS::Lambda::Function': p.FunctionName, 'AWS::Logs::LogGroup': p.LogGroupName, 'AWS::IAM::Role': p.RoleName }[r.Type as string];
    const name =
      own !== undefined
        ? resolve(own)
        : r.Type === 'AWS::S3::Bucket'
          ? `${stackName}-${id}-${FAKE.suffix}`.toLowerCase()
          : r.Type === 'AWS::ApiGatewayV2::Api'
            ? FAKE.apiId
            : r.Type === 'AWS::RDS::DBProxy'
              ? resolve(p.DBProxyName)
              : `${stackName}-${id}-${FAKE.suffix}`;
    return (names[id] = name);
  }
  function arnOf(id: string): string {
    const r = template.Resources[id];
    const a = `arn:${t.partition}`;
    switch (r.Type) {
      case 'AWS::Lambda::Function':
        return `${a}:lambda:${t.region}:${t.account}:function:${physicalName(id)}`;
      case 'AWS::Logs::LogGroup':
        return `${a}:logs:${t.region}:${t.account}:log-group:${physicalName(id)}:*`;
      case 'AWS::IAM::Role':
        return `${a}:iam::${t.account}:role/${physicalName(id)}`;
      case 'AWS::S3::Bucket':
        return `${a}:s3:::${physicalName(id)}`;
      case 'AWS::Events::Rule':
        return `${a}:events:${t.region}:${t.account}:rule/${physicalName(id)}`;
      case 'AWS::RDS::DBProxy':
        // Proxy ARNs carry a generated prx- id, not the proxy's name.
        return `${a}:rds:${t.region}:${t.account}:db-proxy:prx-0123456789abcdef0`;
      default:
        throw new Error(`no ARN for ${r.Type}`);
    }
  }
  return { resolve, physicalName, arnOf, stackName };
}

const needs = (actions: string[], resource: string, why: string, context?: Record<string, string>): Need[] =>
  actions.map((action) => ({ action, resource, for: why, ...(context ? { context } : {}) }));

type Rule = (id: string, r: Json, ctx: ReturnType<typeof resolver> & { t: Target; template: Json }) => Need[];

/** AWS::S3::Bucket properties and the actions CloudFormation's handlers call for them. */
const BUCKET_PROPERTY_ACTIONS: Record<string, string[]> = {
  PublicAccessBlockConfiguration: ['s3:PutBucketPublicAccessBlock', 's3:GetBucketPublicAccessBlock'],
  OwnershipControls: ['s3:PutBucketOwnershipControls', 's3:GetBucketOwnershipControls'],
  CorsConfiguration: ['s3:PutBucketCORS', 's3:GetBucketCORS'],
  LifecycleConfiguration: ['s3:PutLifecycleConfiguration', 's3:GetLifecycleConfiguration'],
};

/** Create, update and delete permissions of each resource type the templates use. */
export const RESOURCE_PERMISSIONS: Record<string, Rule> = {
  'AWS::S3::Bucket': (id, r, c) =>
    needs(
      [
        's3:CreateBucket', 's3:PutEncryptionConfiguration', 's3:GetEncryptionConfiguration', 's3:PutBucketTagging', 's3:GetBucketTagging', 's3:ListBucket', 's3:DeleteBucket',
        // The settings the bucket sets (the receipts' bucket): each property's own put and read.
        ...Object.keys(r.Properties ?? {}).flatMap((property) => BUCKET_PROPERTY_ACTIONS[property] ?? []),
      ],
      c.arnOf(id),
      id,
    ),
  'AWS::Events::Rule': (id, _r, c) =>
    needs(['events:PutRule', 'events:DescribeRule', 'events:DeleteRule', 'events:PutTargets', 'events:RemoveTargets', 'events:ListTargetsByRule'], c.arnOf(id), id),
  'AWS::S3::BucketPolicy': (id, r, c) =>
    needs(['s3:PutBucketPolicy', 's3:GetBucketPolicy', 's3:DeleteBucketPolicy'], c.arnOf(r.Properties.Bucket.Ref), id),
  'AWS::Logs::LogGroup': (id, _r, c) => [
    ...needs(
      ['logs:CreateLogGroup', 'logs:PutRetentionPolicy', 'logs:DeleteRetentionPolicy', 'logs:DeleteLogGroup', 'logs:TagResource', 'logs:UntagResource', 'logs:ListTagsForResource', 'logs:TagLogGroup', 'logs:UntagLogGroup', 'logs:ListTagsLogGroup'],
      c.arnOf(id),
      id,
    ),
    ...needs(['logs:DescribeLogGroups'], '*', id),
  ],
  'AWS::IAM::Role': (id, r, c) => [
    ...needs(
      ['iam:CreateRole', 'iam:GetRole', 'iam:UpdateRole', 'iam:UpdateAssumeRolePolicy', 'iam:DeleteRole', 'iam:TagRole', 'iam:UntagRole', 'iam:ListInstanceProfilesForRole', 'iam:ListAttachedRolePolicies', 'iam:ListRolePolicies'],
      c.arnOf(id),
      id,
    ),
    ...(r.Properties.Policies?.length ? needs(['iam:PutRolePolicy', 'iam:GetRolePolicy', 'iam:DeleteRolePolicy'], c.arnOf(id), id) : []),
    ...(r.Properties.ManagedPolicyArns ?? []).flatMap((arn: Json) =>
      needs(['iam:AttachRolePolicy', 'iam:DetachRolePolicy'], c.arnOf(id), `${id} (${c.resolve(arn)})`, { 'iam:PolicyARN': c.resolve(arn) }),
    ),
  ],
  'AWS::Lambda::Function': (id, r, c) => {
    const p = r.Properties;
    const fn = c.arnOf(id);
    return [
      ...needs(
        [
          'lambda:CreateFunction',
          'lambda:GetFunction',
          'lambda:UpdateFunctionCode',
          'lambda:UpdateFunctionConfiguration',
          'lambda:DeleteFunction',
          'lambda:GetFunctionCodeSigningConfig',
          'lambda:GetRuntimeManagementConfig',
          'lambda:PutRuntimeManagementConfig',
          'lambda:GetFunctionRecursionConfig',
          'lambda:PutFunctionRecursionConfig',
          'lambda:TagResource',
          'lambda:UntagResource',
          'lambda:ListTags',
          // A reservation set, changed or removed (dev has none, prod one per function).
          'lambda:PutFunctionConcurrency',
          'lambda:DeleteFunctionConcurrency',
        ],
        fn,
        id,
      ),
      ...needs(['iam:PassRole'], c.resolve(p.Role), id, { 'iam:PassedToService': 'lambda.amazonaws.com' }),
      ...needs(['s3:GetObject', 's3:GetObjectVersion'], `${c.arnOf(p.Code.S3Bucket.Ref)}/${p.Code.S3Key}`, id),
      ...(p.VpcConfig ? needs(['ec2:DescribeVpcs', 'ec2:DescribeSubnets', 'ec2:DescribeSecurityGroups', 'ec2:DescribeNetworkInterfaces'], '*', id) : []),
    ];
  },
  'AWS::Lambda::Permission': (id, r, c) => needs(['lambda:AddPermission', 'lambda:RemovePermission', 'lambda:GetPolicy'], c.resolve(r.Properties.FunctionName), id),
  'AWS::ApiGatewayV2::Api': (id, _r, c) => {
    const base = `arn:${c.t.partition}:apigateway:${c.t.region}::/apis`;
    return [
      ...needs(['apigateway:POST'], base, id),
      ...needs(['apigateway:GET', 'apigateway:PATCH', 'apigateway:PUT', 'apigateway:DELETE'], `${base}/${FAKE.apiId}`, id),
      ...needs(['apigateway:GET', 'apigateway:POST', 'apigateway:DELETE'], `arn:${c.t.partition}:apigateway:${c.t.region}::/tags/${encodeURIComponent(`${base}/${FAKE.apiId}`)}`, id),
    ];
  },
  'AWS::ApiGatewayV2::Stage': (id, r, c) => [
    ...subresource(c, 'stages', r.Properties.StageName, id),
    // Access logs (AccessLogSettings): API Gateway delivers them through CloudWatch Logs' vended
    // log deliveries and a resource policy on the log group, created as the deployer.
    ...(r.Properties.AccessLogSettings
      ? needs(
          ['logs:CreateLogDelivery', 'logs:GetLogDelivery', 'logs:UpdateLogDelivery', 'logs:DeleteLogDelivery', 'logs:ListLogDeliveries', 'logs:PutResourcePolicy', 'logs:DescribeResourcePolicies', 'logs:DescribeLogGroups'],
          '*',
          id,
        )
      : []),
  ],
  'AWS::ApiGatewayV2::Integration': (id, _r, c) => subresource(c, 'integrations', 'abc1234', id),
  'AWS::ApiGatewayV2::Route': (id, _r, c) => subresource(c, 'routes', 'def5678', id),
  'AWS::RDS::DBProxy': (id, r, c) => [
    ...needs(
      ['rds:CreateDBProxy', 'rds:ModifyDBProxy', 'rds:DeleteDBProxy', 'rds:DescribeDBProxies', 'rds:AddTagsToResource', 'rds:RemoveTagsFromResource', 'rds:ListTagsForResource'],
      c.arnOf(id),
      id,
    ),
    ...needs(['iam:PassRole'], c.resolve(r.Properties.RoleArn), id, { 'iam:PassedToService': 'rds.amazonaws.com' }),
  ],
  'AWS::RDS::DBProxyTargetGroup': (id, r, c) => {
    const rds = `arn:${c.t.partition}:rds:${c.t.region}:${c.t.account}`;
    const proxy = c.arnOf(r.Properties.DBProxyName.Ref);
    const group = `${rds}:target-group:prx-tg-0123456789abcdef0`;
    const instances = (r.Properties.DBInstanceIdentifiers ?? []).map((i: Json) => `${rds}:db:${c.resolve(i)}`);
    return [
      ...needs(['rds:DescribeDBProxies'], proxy, id),
      ...[proxy, group].flatMap((arn) =>
        needs(['rds:DescribeDBProxyTargetGroups', 'rds:ModifyDBProxyTargetGroup', 'rds:DescribeDBProxyTargets', 'rds:RegisterDBProxyTargets', 'rds:DeregisterDBProxyTargets'], arn, id),
      ),
      ...instances.flatMap((db: string) => needs(['rds:RegisterDBProxyTargets', 'rds:DeregisterDBProxyTargets', 'rds:DescribeDBInstances'], db, id)),
    ];
  },
};

function subresource(c: { t: Target }, kind: string, name: string, id: string): Need[] {
  const api = `arn:${c.t.partition}:apigateway:${c.t.region}::/apis/${FAKE.apiId}`;
  return [...needs(['apigateway:POST'], `${api}/${kind}`, id), ...needs(['apigateway:GET', 'apigateway:PATCH', 'apigateway:DELETE'], `${api}/${kind}/${name}`, id)];
}

/**
 * What the framework and `npm run deploy` call themselves (osls: lib/plugins/aws/deploy, info,
 * deploy-list, rollback, remove; scripts/deploy.ts: the Lambda quota check).
 */
function frameworkNeeds(template: Json, t: Target, stageParams: Json, c: ReturnType<typeof resolver>): Need[] {
  const cfn = `arn:${t.partition}:cloudformation:${t.region}:${t.account}`;
  const stack = `${cfn}:stack/${c.stackName}/${FAKE.uuid}`;
  const bucket = c.arnOf('ServerlessDeploymentBucket');
  const functions = Object.entries<Json>(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
  return [
    ...needs(
      ['cloudformation:CreateStack', 'cloudformation:UpdateStack', 'cloudformation:DescribeStacks', 'cloudformation:DescribeStackEvents', 'cloudformation:DescribeStackResource', 'cloudformation:DescribeStackResources', 'cloudformation:ListStackResources', 'cloudformation:GetTemplate', 'cloudformation:CreateChangeSet', 'cloudformation:DescribeChangeSet', 'cloudformation:ExecuteChangeSet', 'cloudformation:DeleteChangeSet'],
      stack,
      'serverless deploy',
    ),
    ...needs(['cloudformation:DescribeChangeSet', 'cloudformation:ExecuteChangeSet', 'cloudformation:DeleteChangeSet'], `${cfn}:changeSet/${c.stackName}-change-set/${FAKE.uuid}`, 'serverless deploy'),
    ...needs(['cloudformation:DeleteStack'], stack, 'serverless remove'),
    ...needs(['cloudformation:ValidateTemplate'], '*', 'serverless deploy'),
    ...needs(['s3:ListBucket', 's3:GetBucketLocation'], bucket, 'serverless deploy, deploy list, rollback'),
    ...needs(['s3:ListBucketVersions'], bucket, 'serverless remove'),
    ...needs(['s3:PutObject', 's3:GetObject', 's3:DeleteObject'], `${bucket}/serverless/${t.service}/${t.stage}/1700000000000-2026-01-01T00:00:00.000Z/compiled-cloudformation-template.json`, 'serverless deploy, rollback'),
    ...needs(['lambda:GetAccountSettings'], '*', 'npm run deploy (concurrency quota)'),
    ...functions.flatMap(([id]) => [
      ...needs(['lambda:GetFunctionConcurrency'], c.arnOf(id), 'npm run deploy (concurrency quota)'),
      ...needs(['lambda:GetFunction', 'lambda:GetFunctionConfiguration', 'lambda:ListVersionsByFunction'], c.arnOf(id), 'serverless deploy function, deploy list functions'),
    ]),
    ...needs(['apigateway:GET'], `arn:${t.partition}:apigateway:${t.region}::/apis/${FAKE.apiId}`, 'serverless info'),
    ...(stageParams.jwtSecretParameter
      ? needs(['ssm:GetParameter'], `arn:${t.partition}:ssm:${t.region}:${t.account}:parameter${stageParams.jwtSecretParameter}`, 'the stage’s JWT secret (exists before deploying)')
      : []),
  ];
}

/** Every permission deploying `templates` (the create and update stacks) needs; unknown types are listed apart. */
export function deployerNeeds(templates: Json[], t: Target, stageParams: Json): { needs: Need[]; unknownTypes: string[] } {
  const all: Need[] = [];
  const unknown = new Set<string>();
  for (const template of templates) {
    const c = resolver(template, t);
    for (const [id, r] of Object.entries<Json>(template.Resources)) {
      const rule = RESOURCE_PERMISSIONS[r.Type];
      if (!rule) unknown.add(r.Type);
      else all.push(...rule(id, r, { ...c, t, template }));
    }
    if (template.Resources.ServerlessDeploymentBucket) all.push(...frameworkNeeds(template, t, stageParams, c));
  }
  return { needs: all, unknownTypes: [...unknown].sort() };
}

const glob = (pattern: string, flags = '') =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, flags);

/** IAM's Allow evaluation for one request, enough for this policy: Action/Resource globs, ${aws:PrincipalAccount}, String/ArnEquals. */
export function allows(policy: Json, need: Need, account: string): string | undefined {
  for (const s of [policy.Statement].flat()) {
    if (s.Effect !== 'Allow') continue;
    if (![s.Action].flat().some((a: string) => glob(a, 'i').test(need.action))) continue;
    const resources = [s.Resource].flat().map((r: string) => r.replaceAll('${aws:PrincipalAccount}', account));
    if (!resources.some((r: string) => glob(r).test(need.resource))) continue;
    const conditions = Object.entries<Json>(s.Condition ?? {}).every(([op, keys]) =>
      Object.entries<Json>(keys).every(([key, values]) => {
        if (op !== 'StringEquals' && op !== 'ArnEquals') return false;
        const value = need.context?.[key];
        return value !== undefined && [values].flat().includes(value);
      }),
    );
    if (conditions) return s.Sid;
  }
  return undefined;
}
