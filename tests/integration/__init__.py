"""Integration tests: a real MariaDB (faults, migrations, SnapStart restore), moto for
AWS (the CodeDeploy hooks, exports), and the packaged templates and zip."""
