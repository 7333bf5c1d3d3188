"""The CodeDeploy hooks against moto and Lambda doubles."""
