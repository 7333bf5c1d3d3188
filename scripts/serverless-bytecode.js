'use strict';
// Local osls plugin: after the deployment zips are built, add compiled bytecode to them
// (scripts/compile_bytecode.py). Lambda's code folder is read-only, so without .pyc files
// every cold start compiles each imported module from source.
const { execFileSync } = require('child_process');
const path = require('path');

class CompileBytecode {
  constructor(serverless) {
    this.serverless = serverless;
    this.hooks = {
      'after:package:createDeploymentArtifacts': () => this.compile(),
    };
  }

  compile() {
    const service = this.serverless.service;
    const artifacts = new Set();
    if (service.package && service.package.artifact) artifacts.add(service.package.artifact);
    for (const name of service.getAllFunctions()) {
      const fn = service.getFunction(name);
      if (fn.package && fn.package.artifact) artifacts.add(fn.package.artifact);
    }
    if (artifacts.size === 0) return;
    const script = path.join(this.serverless.serviceDir, 'scripts', 'compile_bytecode.py');
    // The same Python 3.13 that packs the requirements (custom.wsgi.pythonBin).
    const wsgi = (service.custom && service.custom.wsgi) || {};
    const python = wsgi.pythonBin
      ? path.resolve(this.serverless.serviceDir, wsgi.pythonBin)
      : 'python3.13';
    execFileSync(python, [script, ...artifacts], { stdio: 'inherit' });
  }
}

module.exports = CompileBytecode;
