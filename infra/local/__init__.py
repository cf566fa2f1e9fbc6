"""The Docker-free local runtime: `template.yaml` served over HTTP with AWS emulated by moto.

`python -m infra.local` starts it; `infra.local.runtime.LocalRuntime` is the same thing as a
library (tests, benchmarks). Modules are split by concept:

- `cfn`: reading CloudFormation YAML and resolving intrinsic functions to local values.
- `template`: the SAM template as data (functions, API routes, event sources, CORS).
- `routing`: API Gateway's resource/method matching.
- `apigateway`: HTTP request <-> REST API (v1) proxy event/result, gateway error responses.
- `lambdas`: loading handlers in-process and invoking them with a Lambda-like context.
- `aws`: the in-process moto server and provisioning of the template's resources in it.
- `wiretap`: the WSGI layer in front of moto that observes sends and serialises DynamoDB.
- `messages`, `eventbus`: what was sent (emails/SMS) and put on the bus, and where it goes.
- `dispatch`: asynchronous invocations (EventBridge rules, SQS, async Lambda invoke).
- `drain`: calling the core's transactional-outbox publisher.
- `persistence`, `bootstrap`: state on disk, the first-start workspace.
- `demo`: the example app with Userfront's toolkit forms, on its own origin (docs/toolkit.md).
- `server`, `runtime`, `process`, `__main__`: the HTTP front, the orchestration, a
  subprocess wrapper for test isolation, and the CLI.
"""
