import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

// Validates a CloudFormation template against the CloudFormation resource specification, offline:
// @aws-cdk/aws-service-spec (devDependency) ships AWS's published resource schemas, kept current,
// as one gzipped JSON database. Checked: every resource type exists; every property is known, of
// the right shape, and every required one is present; Ref, Fn::GetAtt (with the attribute),
// DependsOn and Condition point at something that exists; names within their length limits.
// Intrinsic functions stand for any value (CloudFormation resolves them at deploy time).

type Json = any;
interface PropertyType {
  type: string;
  allowedValues?: string[];
  element?: PropertyType;
  types?: PropertyType[];
  reference?: { $ref: string };
}
interface Property {
  type: PropertyType;
  required?: boolean;
  previousTypes?: PropertyType[];
}
interface Shape {
  properties: Record<string, Property>;
}
interface ResourceSpec extends Shape {
  cloudFormationType: string;
  attributes: Record<string, unknown>;
}

let cached: { resources: Map<string, ResourceSpec>; types: Map<string, Shape> } | undefined;

function loadSpec() {
  if (cached) return cached;
  const pkg = createRequire(import.meta.url).resolve('@aws-cdk/aws-service-spec/package.json');
  const db = JSON.parse(gunzipSync(readFileSync(join(dirname(pkg), 'db.json.gz'))).toString('utf8'));
  cached = {
    resources: new Map(db.schema.resource.entities.map((r: ResourceSpec) => [r.cloudFormationType, r])),
    types: new Map(db.schema.typeDefinition.entities.map((t: Shape & { $id: string }) => [t.$id, t])),
  };
  return cached;
}

const PSEUDO = new Set(['AWS::AccountId', 'AWS::NoValue', 'AWS::Partition', 'AWS::Region', 'AWS::StackId', 'AWS::StackName', 'AWS::URLSuffix', 'AWS::NotificationARNs']);

/** Name length limits of the services (the schemas do not all carry them). */
const NAME_LIMITS: Record<string, [string, number]> = {
  'AWS::Lambda::Function': ['FunctionName', 64],
  'AWS::IAM::Role': ['RoleName', 64],
  'AWS::RDS::DBProxy': ['DBProxyName', 60],
  'AWS::Logs::LogGroup': ['LogGroupName', 512],
  'AWS::ApiGatewayV2::Api': ['Name', 128],
};

const isIntrinsic = (v: Json) =>
  v && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 1 && /^(Ref|Fn::\w+|Condition)$/.test(Object.keys(v)[0]!);

/** Problems found, one line each; empty when the template is valid. */
export function validateTemplate(template: Json): string[] {
  const { resources, types } = loadSpec();
  const problems: string[] = [];
  const logicalIds = new Set(Object.keys(template.Resources ?? {}));
  const parameters = new Set(Object.keys(template.Parameters ?? {}));
  const conditions = new Set(Object.keys(template.Conditions ?? {}));

  function checkValue(value: Json, type: PropertyType, at: string): void {
    if (value === undefined || value === null) return;
    if (isIntrinsic(value)) return;
    switch (type.type) {
      case 'string':
        if (typeof value !== 'string') problems.push(`${at}: expected a string, got ${JSON.stringify(value)}`);
        else if (type.allowedValues && !type.allowedValues.includes(value)) {
          problems.push(`${at}: ${JSON.stringify(value)} is not one of ${type.allowedValues.join(', ')}`);
        }
        return;
      case 'integer':
      case 'number':
        if (typeof value !== 'number' && !(typeof value === 'string' && /^-?\d+(\.\d+)?$/.test(value))) {
          problems.push(`${at}: expected a number, got ${JSON.stringify(value)}`);
        } else if (type.type === 'integer' && !Number.isInteger(Number(value))) problems.push(`${at}: expected an integer`);
        return;
      case 'boolean':
        if (typeof value !== 'boolean' && value !== 'true' && value !== 'false') problems.push(`${at}: expected a boolean, got ${JSON.stringify(value)}`);
        return;
      case 'json':
        if (typeof value !== 'object' && typeof value !== 'string') problems.push(`${at}: expected JSON`);
        return;
      case 'array':
        if (!Array.isArray(value)) problems.push(`${at}: expected a list`);
        else value.forEach((v, i) => checkValue(v, type.element!, `${at}[${i}]`));
        return;
      case 'map':
        if (typeof value !== 'object' || Array.isArray(value)) problems.push(`${at}: expected a map`);
        else for (const [k, v] of Object.entries(value)) checkValue(v, type.element!, `${at}.${k}`);
        return;
      case 'tag':
        if (typeof value !== 'object' || !('Key' in value) || !('Value' in value)) problems.push(`${at}: expected a {Key, Value} tag`);
        return;
      case 'union': {
        const before = problems.length;
        for (const option of type.types ?? []) {
          const trial = problems.length;
          checkValue(value, option, at);
          if (problems.length === trial) {
            problems.length = before;
            return;
          }
          problems.length = trial;
        }
        problems.push(`${at}: matches none of ${type.types?.map((t) => t.type).join(', ')}`);
        return;
      }
      case 'ref': {
        const shape = types.get(type.reference!.$ref);
        if (!shape) return;
        if (typeof value !== 'object' || Array.isArray(value)) {
          problems.push(`${at}: expected an object`);
          return;
        }
        checkObject(value, shape, at);
        return;
      }
      default:
        return;
    }
  }

  function checkObject(value: Json, shape: Shape, at: string): void {
    for (const [key, v] of Object.entries(value)) {
      const property = shape.properties[key];
      if (!property) {
        problems.push(`${at}.${key}: unknown property`);
        continue;
      }
      // A property whose schema changed type accepts its current or any earlier type.
      const options = [property.type, ...(property.previousTypes ?? [])];
      checkValue(v, options.length > 1 ? { type: 'union', types: options } : property.type, `${at}.${key}`);
    }
    for (const [key, property] of Object.entries(shape.properties)) {
      if (property.required && !(key in value)) problems.push(`${at}.${key}: required property missing`);
    }
  }

  function checkReferences(value: Json, at: string): void {
    if (Array.isArray(value)) return value.forEach((v, i) => checkReferences(v, `${at}[${i}]`));
    if (!value || typeof value !== 'object') return;
    if (typeof value.Ref === 'string' && !logicalIds.has(value.Ref) && !parameters.has(value.Ref) && !PSEUDO.has(value.Ref)) {
      problems.push(`${at}: Ref to ${value.Ref}, which does not exist`);
    }
    const getAtt = value['Fn::GetAtt'];
    if (getAtt) {
      const [id, attribute] = Array.isArray(getAtt) ? getAtt : String(getAtt).split(/\.(.*)/);
      const target = template.Resources?.[id];
      if (!target) problems.push(`${at}: Fn::GetAtt on ${id}, which does not exist`);
      else {
        const spec = resources.get(target.Type);
        if (spec && !(attribute in spec.attributes)) problems.push(`${at}: ${target.Type} has no attribute ${attribute}`);
      }
    }
    for (const key of ['Fn::If', 'Condition'] as const) {
      const name = key === 'Fn::If' ? value[key]?.[0] : typeof value[key] === 'string' ? value[key] : undefined;
      if (name !== undefined && !conditions.has(name)) problems.push(`${at}: condition ${name} does not exist`);
    }
    for (const [k, v] of Object.entries(value)) checkReferences(v, `${at}.${k}`);
  }

  for (const [id, resource] of Object.entries<Json>(template.Resources ?? {})) {
    const spec = resources.get(resource.Type);
    if (!spec) {
      problems.push(`${id}: unknown resource type ${resource.Type}`);
      continue;
    }
    checkObject(resource.Properties ?? {}, spec, `${id}.Properties`);
    checkReferences(resource.Properties ?? {}, `${id}.Properties`);
    for (const dep of [resource.DependsOn ?? []].flat()) {
      if (!logicalIds.has(dep)) problems.push(`${id}.DependsOn: ${dep} does not exist`);
    }
    if (resource.Condition !== undefined && !conditions.has(resource.Condition)) {
      problems.push(`${id}.Condition: ${resource.Condition} does not exist`);
    }
    const limit = NAME_LIMITS[resource.Type];
    const name = limit && resource.Properties?.[limit[0]];
    if (typeof name === 'string' && name.length > limit![1]) problems.push(`${id}.${limit![0]}: ${name.length} characters, limit ${limit![1]}`);
  }
  for (const [id, output] of Object.entries<Json>(template.Outputs ?? {})) {
    checkReferences(output.Value, `Outputs.${id}`);
    if (output.Condition !== undefined && !conditions.has(output.Condition)) problems.push(`Outputs.${id}.Condition: ${output.Condition} does not exist`);
  }
  return problems;
}
