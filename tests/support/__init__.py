"""What every kind of test imports (fixtures stay in conftest.py files):

- api: the test configuration, accounts and `Actions` through the public API, tokens,
  and the checks on the API's error shape;
- routing: `RoutedClient`, which sends each request to whoever owns its route;
- lambdas: invoking the monolith as serverless-wsgi runs it on Lambda;
- functions: the dedicated functions from the registry, on a test database;
- parity, write_parity: the seeded world and the monolith-vs-function comparisons;
- events/: the sample HTTP API events, one JSON file per variant, and `load_event()`;
- aws: fake credentials and moto (a pytest plugin); codedeploy: CodeDeploy and Lambda
  doubles for the hooks; exports: the export tests' world and resources;
- servers: starting `make run`'s server or serverless-offline and running newman;
- fuzz_spec: where the fuzz gate reads the spec differently, and why;
- templates: reading the packaged CloudFormation.
"""
