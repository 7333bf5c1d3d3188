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
// - its p99 duration threshold (`p99DurationMs`) for scripts/serverless-alias-alarms.js;
// - with custom.dedicatedFunctions.snapStart (per stage), SnapStart on published versions
//   for it and every other function CodeDeploy shifts (the monolith, the worker).
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
//
// For an entry in shadow state (`shadow: app/functions/<module>.handler`, handler still
// serverless-wsgi's), from custom.dedicatedFunctions.shadow, at package time and under
// `sls offline start` alike:
// - its handler becomes the shadow wrapper (app/deploy/shadow.py: the monolith answers, a
//   sampled share of reads goes to the comparator by asynchronous invoke), with
//   SHADOW_COMPARATOR and SHADOW_SAMPLE_RATE in its environment;
// - a comparator function `<name>Comparator` (app/deploy/comparator.py) running the new
//   handler, with reserved concurrency, no retries and a maximum event age;
// and at package time only:
// - the comparator's role: its log group, the common statements and the entry's `uses`,
//   and nothing it could invoke (it runs both sides in process);
// - the pinned function's right to invoke its comparator, and that function only;
// - `<Name>ShadowMismatchAlarm` on the comparator's ShadowMismatches metric for the route.
// Every function the pre-traffic hook tests carries `code` (monolith or new) in the
// manifest; for one running new code the hook may read its versions' configuration (to
// tell a switch from the monolith) and the shadow metrics, and gets the gate settings in
// SHADOW_GATE (app/deploy/gate.py).
const MANIFEST_VARIABLE = 'DEDICATED_FUNCTIONS';
// Lambda allows 4 KB of environment in all; leave room for the hooks' other variables.
const MANIFEST_MAX_BYTES = 3000;
const INVOKE_VERSIONS_SID = 'InvokeTestedVersions';
const INVOKE_ALIASES_SID = 'InvokeTestedAliases';
const SNAPSTART_APPLY_ON = 'PublishedVersions';
const READ_VERSIONS_SID = 'ReadSwitchedVersions';
const READ_SHADOW_METRICS_SID = 'ReadShadowMetrics';
const GATE_VARIABLE = 'SHADOW_GATE';
const WSGI_HANDLER = 'wsgi_handler.handler';
const COMPARATOR_SUFFIX = 'Comparator';

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
    this.hooks = {
      'before:package:initialize': () => this.derive(),
      // serverless-offline builds its functions on offline:start:init.
      'before:offline:start:init': () => this.deriveShadows({ packaging: false }),
    };
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
    this.deriveShadows({ packaging: true });
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
        if (fn.shadow) {
          // The pinned function may invoke its comparator (unqualified), and nothing else.
          resources[fn.role].Properties.Policies[0].PolicyDocument.Statement.push({
            Sid: 'HandOffToComparator',
            Effect: 'Allow',
            Action: 'lambda:InvokeFunction',
            Resource: functionArn(service.getFunction(comparatorOf(name)).name),
          });
        }
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
    if (settings.snapStart === true || settings.snapStart === 'true') this.snapStart(names);
  }

  // SnapStart on published versions for every function CodeDeploy shifts through its
  // alias. Set on the function resource, not through osls's `snapStart: true`, which
  // points the API's invoke permission at an alias of its own while the canary plugin
  // points the integration at Live.
  snapStart(names) {
    const service = this.serverless.service;
    const naming = this.serverless.getProvider('aws').naming;
    const extensions = service.resources.extensions;
    for (const name of names) {
      const fn = service.getFunction(name);
      if (!fn.deploymentSettings) continue;
      if (fn.provisionedConcurrency) {
        this.fail(`${name}: SnapStart does not combine with provisioned concurrency`);
      }
      const id = `${naming.getNormalizedFunctionName(name)}LambdaFunction`;
      const extension = (extensions[id] = extensions[id] || {});
      extension.Properties = {
        ...(extension.Properties || {}),
        SnapStart: { ApplyOn: SNAPSTART_APPLY_ON },
      };
      // osls names each version by a hash of the function's properties, taken before
      // extensions apply: without this variable, turning SnapStart on would publish no new
      // version, and the one Live points at would never get a snapshot. The app reads it
      // too (app/platform/snapshot.py).
      fn.environment = { ...(fn.environment || {}), SNAPSTART: SNAPSTART_APPLY_ON };
    }
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
    const routes = routesOf(fn).join(', ') || fn.description;
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

  deriveShadows({ packaging }) {
    const service = this.serverless.service;
    const provider = this.serverless.getProvider('aws');
    const stage = provider.getStage();
    const naming = provider.naming;
    const dedicated = (service.custom && service.custom.dedicatedFunctions) || {};
    const settings = dedicated.shadow;
    const resources = packaging ? service.resources.Resources : null;
    for (const name of service.getAllFunctions()) {
      const fn = service.getFunction(name);
      if (!fn.shadow || fn.shadowDerived) continue;
      if (!settings) this.fail(`${name}: has a shadow, but custom.dedicatedFunctions.shadow is missing`);
      if (fn.handler !== WSGI_HANDLER) {
        this.fail(
          `${name}: a shadow belongs to a pinned function (handler ${WSGI_HANDLER}); ` +
            `its handler is ${fn.handler}`
        );
      }
      const routes = routesOf(fn);
      if (routes.length !== 1 || !/^(GET|HEAD) /.test(routes[0])) {
        this.fail(`${name}: only a function with one read route can be shadowed (${routes})`);
      }
      const comparatorName = comparatorOf(name);
      const comparator = settings.comparator;
      const functionName = `${service.service}-${stage}-${comparatorName}`;
      service.functions[comparatorName] = {
        name: functionName,
        handler: comparator.handler,
        description: `Compares ${routes[0]} answers of ${name}'s shadow (${fn.shadow}) with the monolith's`,
        concurrency: clone(comparator.concurrency),
        timeout: comparator.timeout,
        maximumRetryAttempts: 0,
        maximumEventAge: comparator.maximumEventAge,
        uses: clone(fn.uses),
        environment: {
          SHADOW_HANDLER: fn.shadow,
          SHADOW_ROUTE: routes[0],
          SHADOW_METRICS_NAMESPACE: settings.metricsNamespace,
          // The new handler's own metrics (Requests, ColdStart, ...) land apart from the
          // route's real traffic.
          POWERTOOLS_METRICS_NAMESPACE: `${settings.metricsNamespace}/Shadow`,
        },
        events: [],
      };
      fn.handler = settings.handler;
      fn.shadowDerived = true;
      fn.environment = {
        ...(fn.environment || {}),
        SHADOW_COMPARATOR: functionName,
        SHADOW_SAMPLE_RATE: String(settings.sampleRate),
      };
      if (!packaging) continue;

      const comparatorId = naming.getNormalizedFunctionName(comparatorName);
      const comparatorFn = service.functions[comparatorName];
      comparatorFn.role = `${comparatorId}Role`;
      resources[comparatorFn.role] = this.role(comparatorName, comparatorFn, dedicated);
      const extensions = service.resources.extensions;
      extensions[`${comparatorId}LambdaFunction`] = {
        Metadata: {
          checkov: {
            skip: [
              {
                id: 'CKV_AWS_116',
                comment:
                  'Takes sampled reads by asynchronous invoke with no retries: a failed ' +
                  'comparison is a sample dropped (its Errors metric counts it), never replayed.',
              },
            ],
          },
        },
      };
      const id = naming.getNormalizedFunctionName(name);
      const alarm = settings.alarm || {};
      resources[`${id}ShadowMismatchAlarm`] = {
        Type: 'AWS::CloudWatch::Alarm',
        Properties: {
          AlarmDescription:
            `${routes[0]}: the new code (${fn.shadow}) answered differently from the ` +
            `monolith on a sampled read; the switch's pre-traffic hook refuses while this holds`,
          Namespace: settings.metricsNamespace,
          MetricName: 'ShadowMismatches',
          Dimensions: [{ Name: 'route', Value: routes[0] }],
          Statistic: 'Sum',
          Period: alarm.periodSeconds || 300,
          EvaluationPeriods: alarm.evaluationPeriods || 1,
          Threshold: 0,
          ComparisonOperator: 'GreaterThanThreshold',
          TreatMissingData: 'notBreaching',
        },
      };
    }
  }

  grantHooks(names, resources) {
    const service = this.serverless.service;
    const tested = names.filter((name) => {
      const deployment = service.getFunction(name).deploymentSettings;
      return deployment && deployment.preTrafficHook;
    });
    const manifest = {};
    const hookRoles = new Map();
    const hookGates = new Set();
    for (const name of tested) {
      const fn = service.getFunction(name);
      const code = fn.shadow || fn.handler === WSGI_HANDLER ? 'monolith' : 'new';
      manifest[name] = { routes: routesOf(fn), smoke: fn.smoke || [], code };
      // The features its smoke checks must exercise (app/deploy/smoke.py, FEATURE_CHECKS).
      if (fn.uses && fn.uses.length) manifest[name].uses = clone(fn.uses);
      const { preTrafficHook, postTrafficHook } = fn.deploymentSettings;
      if (preTrafficHook && code === 'new' && isDedicated(fn)) {
        // At a switch the hook reads which code each version runs, and the shadow's record.
        this.hookStatement(preTrafficHook, READ_VERSIONS_SID, resources, {
          Action: 'lambda:GetFunctionConfiguration',
        }).Resource.push({
          'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${fn.name}:*`,
        });
        this.hookStatement(preTrafficHook, READ_SHADOW_METRICS_SID, resources, {
          Action: 'cloudwatch:GetMetricStatistics',
          Resource: '*',
        });
        hookGates.add(preTrafficHook);
      }
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
    const shadow = (service.custom.dedicatedFunctions || {}).shadow;
    for (const hook of hookGates) {
      if (!shadow || !shadow.gate) this.fail(`${hook}: custom.dedicatedFunctions.shadow.gate is missing`);
      const fn = service.getFunction(hook);
      fn.environment = {
        ...(fn.environment || {}),
        [GATE_VARIABLE]: JSON.stringify({ namespace: shadow.metricsNamespace, ...shadow.gate }),
      };
    }
  }

  // The statement with `sid` in the hook's role; `create` makes it when missing.
  hookStatement(hook, sid, resources, create) {
    const service = this.serverless.service;
    if (!service.getAllFunctions().includes(hook)) this.fail(`no hook function named ${hook}`);
    const roleName = service.getFunction(hook).role;
    const role = roleName && resources[roleName];
    const statement =
      role &&
      (role.Properties.Policies || [])
        .flatMap((policy) => policy.PolicyDocument.Statement)
        .find((candidate) => candidate.Sid === sid);
    if (!statement && role && create) {
      const created = { Sid: sid, Effect: 'Allow', Resource: [], ...create };
      role.Properties.Policies[0].PolicyDocument.Statement.push(created);
      return created;
    }
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

function comparatorOf(name) {
  return `${name}${COMPARATOR_SUFFIX}`;
}

function functionArn(functionName) {
  return {
    'Fn::Sub': `arn:\${AWS::Partition}:lambda:\${AWS::Region}:\${AWS::AccountId}:function:${functionName}`,
  };
}

function clone(value) {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value));
}

module.exports = DedicatedFunctions;
