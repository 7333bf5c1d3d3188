'use strict';
// Local osls plugin: everything mechanical about a function is derived from its entry.
//
// A dedicated function (an entry with an HTTP API route of its own, not the catch-all) is
// about ten lines in serverless.yml: handler, route(s), per-stage reserved concurrency and
// what it needs beyond the common set. At package time this plugin derives, for each one:
//
// - reservedConcurrency from `concurrency: {default, dev, staging, prod}` (any function);
// - memorySize, when the entry sets none (custom.dedicatedFunctions.memorySize);
// - its own least-privilege execution role `<Name>Role`: writing its own log group, the
//   common statements (custom.dedicatedFunctions.statements), and one statement per
//   entry of `uses:` (custom.dedicatedFunctions.uses);
// - the checkov skip on its function (an HTTP API invokes it synchronously: no DLQ);
// - deploymentSettings: shifted through `Live` by CodeDeploy with both smoke hooks;
// - its p99 duration threshold (`p99DurationMs`) for scripts/serverless-alias-alarms.js.
//
// For every function (the monolith, the worker, the hooks too): its log group is encrypted
// with the stack's key and kept per custom.dedicatedFunctions.logGroup. For every function
// the hooks test (deploymentSettings.preTrafficHook): the pre-traffic hook's role may invoke
// any of its versions, the post-traffic hook's role its Live alias, and both hooks get
// DEDICATED_FUNCTIONS, the manifest of routes and extra smoke checks they test by
// (app/deploy/smoke.py). app/deploy/registry.py reads the same entries for the tests.
//
// Why not serverless-iam-roles-per-function (3.2.0, packaged here under osls): it clones
// osls's shared IamRoleLambdaExecution, which then stays in the template unused; it adds
// logs:CreateLogGroup and the AWS-managed AWSLambdaVPCAccessExecutionRole (network
// interface actions on every resource) to every role; and it covers only the role, not
// the logs, deployment, alarms or hook rights derived here.
const MANIFEST_VARIABLE = 'DEDICATED_FUNCTIONS';
// Lambda allows 4 KB of environment in all; leave room for the hooks' other variables.
const MANIFEST_MAX_BYTES = 3000;
const INVOKE_VERSIONS_SID = 'InvokeTestedVersions';
const INVOKE_ALIASES_SID = 'InvokeTestedAliases';

class DedicatedFunctions {
  constructor(serverless) {
    this.serverless = serverless;
    serverless.configSchemaHandler.defineFunctionProperties('aws', {
      properties: {
        concurrency: {
          type: 'object',
          additionalProperties: { type: 'integer', minimum: 0 },
        },
        uses: { type: 'array', items: { type: 'string' } },
        p99DurationMs: { type: 'integer', minimum: 1 },
        shadow: { type: 'string' },
        smoke: {
          type: 'array',
          items: {
            type: 'object',
            properties: {
              name: { type: 'string' },
              method: { type: 'string' },
              path: { type: 'string' },
              query: { type: 'string' },
              status: { type: 'integer' },
              shape: { type: 'string' },
            },
            required: ['path', 'status'],
            additionalProperties: false,
          },
        },
      },
    });
    this.hooks = { 'before:package:initialize': () => this.derive() };
  }

  fail(message) {
    throw new this.serverless.classes.Error(message);
  }

  derive() {
    const service = this.serverless.service;
    const stage = this.serverless.getProvider('aws').getStage();
    const naming = this.serverless.getProvider('aws').naming;
    const settings = (service.custom && service.custom.dedicatedFunctions) || {};
    service.resources = service.resources || {};
    const resources = (service.resources.Resources = service.resources.Resources || {});
    const extensions = (service.resources.extensions = service.resources.extensions || {});
    const names = service.getAllFunctions();

    for (const name of names) {
      const fn = service.getFunction(name);
      const id = naming.getNormalizedFunctionName(name);
      if (fn.concurrency) {
        const value = stage in fn.concurrency ? fn.concurrency[stage] : fn.concurrency.default;
        if (value === undefined) {
          this.fail(`${name}: concurrency has no value for stage ${stage} and no default`);
        }
        fn.reservedConcurrency = value;
      }
      if (settings.logGroup && !extensions[`${id}LogGroup`]) {
        extensions[`${id}LogGroup`] = clone(settings.logGroup);
      }
      if (!isDedicated(fn)) continue;

      if (fn.memorySize === undefined && settings.memorySize !== undefined) {
        fn.memorySize = settings.memorySize;
      }
      if (!fn.role) {
        fn.role = `${id}Role`;
        resources[fn.role] = this.role(name, fn, settings);
      }
      const functionExtension = (extensions[`${id}LambdaFunction`] =
        extensions[`${id}LambdaFunction`] || {});
      if (settings.checkovSkips && !functionExtension.Metadata) {
        functionExtension.Metadata = { checkov: { skip: clone(settings.checkovSkips) } };
      }
      if (!fn.deploymentSettings && settings.deploymentSettings) {
        fn.deploymentSettings = clone(settings.deploymentSettings);
      }
      if (fn.p99DurationMs !== undefined) {
        const alarms = (service.custom.aliasAlarms = service.custom.aliasAlarms || {});
        alarms.p99DurationMs = { ...(alarms.p99DurationMs || {}), [name]: fn.p99DurationMs };
      }
    }
    this.grantHooks(names, resources);
  }

  role(name, fn, settings) {
    const uses = settings.uses || {};
    const statements = [
      {
        ...clone(settings.writeLogs),
        Resource: {
          'Fn::Sub': `arn:\${AWS::Partition}:logs:\${AWS::Region}:\${AWS::AccountId}:log-group:/aws/lambda/${fn.name}:*`,
        },
      },
      ...clone(settings.statements || []),
    ];
    for (const need of fn.uses || []) {
      if (!uses[need]) {
        this.fail(
          `${name}: uses ${need}, which custom.dedicatedFunctions.uses does not define ` +
            `(known: ${Object.keys(uses).join(', ')})`
        );
      }
      statements.push(...clone(uses[need]));
    }
    const routes = routesOf(fn).join(', ');
    return {
      Type: 'AWS::IAM::Role',
      Properties: {
        Description: `Conduit ${this.serverless.getProvider('aws').getStage()} ${name} (${routes})`,
        AssumeRolePolicyDocument: clone(settings.trust),
        Policies: [
          { PolicyName: name, PolicyDocument: { Version: '2012-10-17', Statement: statements } },
        ],
      },
    };
  }

  grantHooks(names, resources) {
    const service = this.serverless.service;
    const tested = names.filter((name) => {
      const deployment = service.getFunction(name).deploymentSettings;
      return deployment && deployment.preTrafficHook;
    });
    const manifest = {};
    const hookRoles = new Map();
    for (const name of tested) {
      const fn = service.getFunction(name);
      manifest[name] = { routes: routesOf(fn), smoke: fn.smoke || [] };
      const { preTrafficHook, postTrafficHook } = fn.deploymentSettings;
      for (const [hook, sid, qualifier] of [
        [preTrafficHook, INVOKE_VERSIONS_SID, '*'],
        [postTrafficHook, INVOKE_ALIASES_SID, fn.deploymentSettings.alias || 'Live'],
      ]) {
        if (!hook) continue;
        const statement = this.hookStatement(hook, sid, resources);
        statement.Resource.push({
          'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${fn.name}:${qualifier}`,
        });
        hookRoles.set(hook, true);
      }
    }
    const json = JSON.stringify(manifest);
    if (json.length > MANIFEST_MAX_BYTES) {
      this.fail(`${MANIFEST_VARIABLE} is ${json.length} bytes, over ${MANIFEST_MAX_BYTES}`);
    }
    for (const hook of hookRoles.keys()) {
      const fn = service.getFunction(hook);
      fn.environment = { ...(fn.environment || {}), [MANIFEST_VARIABLE]: json };
    }
  }

  hookStatement(hook, sid, resources) {
    const service = this.serverless.service;
    if (!service.getAllFunctions().includes(hook)) this.fail(`no hook function named ${hook}`);
    const roleName = service.getFunction(hook).role;
    const role = roleName && resources[roleName];
    const statement =
      role &&
      (role.Properties.Policies || [])
        .flatMap((policy) => policy.PolicyDocument.Statement)
        .find((candidate) => candidate.Sid === sid);
    if (!statement) {
      this.fail(`${hook}: its role ${roleName} needs a statement with Sid ${sid} to extend`);
    }
    if (!Array.isArray(statement.Resource)) {
      statement.Resource = statement.Resource ? [statement.Resource] : [];
    }
    return statement;
  }
}

function isDedicated(fn) {
  const routes = routesOf(fn);
  return routes.length > 0 && !routes.includes('$default');
}

function routesOf(fn) {
  const routes = [];
  for (const event of fn.events || []) {
    const spec = event && event.httpApi;
    if (spec === undefined) continue;
    if (spec === '*' || (spec && spec.path === '*')) routes.push('$default');
    else if (typeof spec === 'string') routes.push(spec.trim());
    else routes.push(`${String(spec.method || 'ANY').toUpperCase()} ${spec.path}`);
  }
  return routes;
}

function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

module.exports = DedicatedFunctions;
