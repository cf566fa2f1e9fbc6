"""Migration from AWS Cognito (concepts §7.3; issue 12): the passthrough preset calls
Cognito's `InitiateAuth` (USER_PASSWORD_AUTH, SECRET_HASH) — here moto's real
`cognito-idp`, the one the local runtime serves all AWS from. The test creates a user
pool, an app client with a secret and users with permanent passwords in it, and the same
users in Portcullis without a password, as a Cognito import leaves them.
"""

from __future__ import annotations

import socket
import uuid
from dataclasses import dataclass
from typing import Any

import boto3
import httpx
import pytest
from authkit import bearer, error, new_tenant, unique_email

REGION = "eu-west-1"
PASSWORD = "Cognito-Passw0rd!"
UNREACHABLE = "Unable to reach the login service"


@dataclass(frozen=True)
class Pool:
    cognito: Any  # boto3 cognito-idp client on the runtime's moto
    pool_id: str
    client_id: str
    client_secret: str

    def add_user(self, email: str, password: str = PASSWORD) -> None:
        self.cognito.admin_create_user(
            UserPoolId=self.pool_id,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}],
            MessageAction="SUPPRESS",
        )
        self.set_password(email, password)

    def set_password(self, email: str, password: str) -> None:
        self.cognito.admin_set_user_password(
            UserPoolId=self.pool_id, Username=email, Password=password, Permanent=True
        )

    def preset(self, **extra: Any) -> dict[str, Any]:
        return {
            "enabled": True,
            "preset": "cognito",
            "cognito": {
                "region": REGION,
                "userPoolId": self.pool_id,
                "clientId": self.client_id,
                "clientSecret": self.client_secret,
                **extra,
            },
        }


@pytest.fixture(scope="module")
def pool(base_url: str) -> Pool:
    env = httpx.get(f"{base_url}/_local/environment", timeout=30).json()
    cognito = boto3.client(
        "cognito-idp",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        region_name=REGION,
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )
    pool_id = cognito.create_user_pool(PoolName=f"legacy-{uuid.uuid4().hex[:8]}")["UserPool"]["Id"]
    app = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName="legacy-web",
        GenerateSecret=True,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
    )["UserPoolClient"]
    return Pool(cognito, pool_id, app["ClientId"], app["ClientSecret"])


@pytest.fixture(scope="module")
def admin_key(workspace) -> str:
    return str(workspace.key("test", "admin"))


def _tenant(base_url: str, admin_key: str, attempts: int = 50) -> str:
    limits = {"attemptsPerAccount": {"limit": attempts, "windowSeconds": 900}}
    return new_tenant(base_url, admin_key, name="From Cognito", settings={"rateLimits": limits})


def configure(client: httpx.Client, key: str, tenant: str, settings: dict[str, Any]) -> Any:
    response = client.put(
        f"/v0/tenants/{tenant}/auth/passthrough", json=settings, headers=bearer(key)
    )
    assert response.status_code == 200, response.text
    return response.json()


def imported(client: httpx.Client, key: str, tenant: str, email: str) -> dict[str, Any]:
    path = f"/v0/tenants/{tenant}/users"
    response = client.post(path, json={"email": email}, headers=bearer(key))
    assert response.status_code == 200, response.text
    return dict(response.json())


def migrate(client: httpx.Client, tenant: str, email: str, password: str) -> httpx.Response:
    return client.post(
        f"/v0/tenants/{tenant}/auth/password/migrate",
        json={"emailOrUsername": email, "password": password},
    )


def test_the_client_secret_is_masked(client, base_url, admin_key, pool) -> None:
    tenant = _tenant(base_url, admin_key)
    saved = configure(client, admin_key, tenant, pool.preset())
    assert saved["cognito"] == {
        "region": REGION,
        "userPoolId": pool.pool_id,
        "clientId": pool.client_id,
        "clientSecret": "********",
    }
    assert pool.client_secret not in str(saved)
    wrong_region = {**pool.preset()["cognito"], "region": "us-east-2"}
    bad = client.put(
        f"/v0/tenants/{tenant}/auth/passthrough",
        json={"cognito": wrong_region},
        headers=bearer(admin_key),
    )
    error(bad, 400, '"cognito.userPoolId" must be a pool of "cognito.region"')


def test_correct_password_migrates_and_cognito_is_not_asked_again(
    client, base_url, admin_key, pool
) -> None:
    tenant = _tenant(base_url, admin_key)
    configure(client, admin_key, tenant, pool.preset())
    email = unique_email("cognito")
    pool.add_user(email)
    user = imported(client, admin_key, tenant, email)

    response = migrate(client, tenant, email, PASSWORD)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["userId"] == user["userId"] and body["tokens"]["access"]["value"]
    assert "upstreamResponse" not in body  # Cognito's tokens are never forwarded
    assert "AccessToken" not in response.text and "IdToken" not in response.text

    # Cognito now holds another password: only the local argon2id hash can still
    # accept the original one, and the new Cognito password is not accepted here.
    pool.set_password(email, "Changed-Upstream-9!")
    again = client.post(
        f"/v0/tenants/{tenant}/auth/basic", json={"emailOrUsername": email, "password": PASSWORD}
    )
    assert again.status_code == 200, again.text
    error(migrate(client, tenant, email, "Changed-Upstream-9!"), 400, "Incorrect email or password")


def test_wrong_password_is_refused_with_cognitos_message(client, base_url, admin_key, pool) -> None:
    tenant = _tenant(base_url, admin_key)
    configure(client, admin_key, tenant, pool.preset())
    email = unique_email("cognito")
    pool.add_user(email)
    imported(client, admin_key, tenant, email)
    wrong = migrate(client, tenant, email, "Not-The-Passw0rd!")
    error(wrong, 400, "Incorrect username or password.")
    # A local user Cognito does not know: Cognito's non-revealing wording too.
    stranger = unique_email("not-in-pool")
    imported(client, admin_key, tenant, stranger)
    error(migrate(client, tenant, stranger, PASSWORD), 400, "Incorrect username or password.")
    # Still no local password: the right one migrates afterwards.
    assert migrate(client, tenant, email, PASSWORD).status_code == 200


def test_unreachable_cognito_is_a_502_and_counts_no_attempt(
    client, base_url, admin_key, pool
) -> None:
    tenant = _tenant(base_url, admin_key, attempts=3)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    configure(client, admin_key, tenant, pool.preset(endpoint=f"http://127.0.0.1:{port}"))
    email = unique_email("cognito")
    pool.add_user(email)
    imported(client, admin_key, tenant, email)
    for _ in range(4):  # one more than the account's attempt budget
        error(migrate(client, tenant, email, PASSWORD), 502, UNREACHABLE)
    # Back on the (moto) regional endpoint: the account was never locked.
    configure(client, admin_key, tenant, {"cognito": {"endpoint": None}})
    response = migrate(client, tenant, email, PASSWORD)
    assert response.status_code == 200, response.text


def test_a_cognito_endpoint_is_only_for_local_development(
    client, base_url, workspace, pool
) -> None:
    live = new_tenant(base_url, workspace.key("live", "admin"), name="Live Cognito")
    settings = pool.preset(endpoint="http://127.0.0.1:9")
    response = client.put(
        f"/v0/tenants/{live}/auth/passthrough",
        json=settings,
        headers=bearer(workspace.key("live", "admin")),
    )
    error(response, 400, '"cognito.endpoint" is only accepted for local development')
