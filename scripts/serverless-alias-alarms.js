'use strict';
// Local osls plugin: rollback alarms for every function that CodeDeploy shifts.
//
// For each function with `deploymentSettings`, three CloudWatch alarms on its `Live`
// alias (Lambda publishes per-alias metrics with the Resource dimension
// `<function name>:<alias>`): Errors, Throttles, and p99 Duration over a per-function
// threshold. Their names are appended to the function's `deploymentSettings.alarms`, so
// serverless-plugin-canary-deployments puts them in the deployment group's
// AlarmConfiguration: a new version that trips one during the shift is rolled back.
//
// custom.aliasAlarms:
//   errorsThreshold: 0          # errors per minute above which to roll back
//   throttlesThreshold: 0       # throttles per minute above which to roll back
//   p99DurationMs: { default: 2000, monolith: 5000 }   # per function, ms
class AliasAlarms {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = { 'before:package:initialize': () => this.addAlarms() };
  }

  addAlarms() {
    const service = this.serverless.service;
    const settings = (service.custom && service.custom.aliasAlarms) || {};
    const durations = settings.p99DurationMs || {};
    const naming = this.serverless.getProvider('aws').naming;
    service.resources = service.resources || {};
    service.resources.Resources = service.resources.Resources || {};
    const resources = service.resources.Resources;

    for (const name of service.getAllFunctions()) {
      const fn = service.getFunction(name);
      const deployment = fn.deploymentSettings;
      if (!deployment) continue;
      const alias = deployment.alias || 'Live';
      const prefix = `${naming.getNormalizedFunctionName(name)}${alias}`;
      const p99 = durations[name] !== undefined ? durations[name] : durations.default;
      if (p99 === undefined) {
        throw new this.serverless.classes.Error(
          `custom.aliasAlarms.p99DurationMs has no threshold for ${name} and no default`
        );
      }
      const alarms = {
        [`${prefix}ErrorsAlarm`]: ['Errors', { Statistic: 'Sum' }, settings.errorsThreshold || 0],
        [`${prefix}ThrottlesAlarm`]: [
          'Throttles',
          { Statistic: 'Sum' },
          settings.throttlesThreshold || 0,
        ],
        [`${prefix}P99DurationAlarm`]: ['Duration', { ExtendedStatistic: 'p99' }, p99],
      };
      for (const [logicalId, [metric, statistic, threshold]] of Object.entries(alarms)) {
        resources[logicalId] = {
          Type: 'AWS::CloudWatch::Alarm',
          Properties: {
            AlarmDescription: `${fn.name}:${alias} ${metric} above ${threshold}; CodeDeploy rolls a deployment back on it`,
            Namespace: 'AWS/Lambda',
            MetricName: metric,
            Dimensions: [
              { Name: 'FunctionName', Value: fn.name },
              { Name: 'Resource', Value: `${fn.name}:${alias}` },
            ],
            ...statistic,
            Period: 60,
            EvaluationPeriods: 1,
            Threshold: Number(threshold),
            ComparisonOperator: 'GreaterThanThreshold',
            TreatMissingData: 'notBreaching',
          },
        };
      }
      deployment.alarms = [...(deployment.alarms || []), ...Object.keys(alarms)];
    }
  }
}

module.exports = AliasAlarms;
