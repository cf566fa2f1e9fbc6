import pytest

from portcullis.platform.errors import BadRequest
from portcullis.tenancy import settings
from portcullis.tenants import service as tenants


@pytest.fixture(scope="module")
def tenant(aws: str):
    return tenants.create("test", "Settings tests")


def test_defaults_are_complete(tenant) -> None:
    current = settings.as_json(settings.read("test", tenant.tenantId))
    assert current["mfa"] == {"policy": "optional", "firstFactorTokenSeconds": 600}
    assert current["accessTokenDuration"] == 604800
    for name in (
        "signupPerIp",
        "sendPerIp",
        "sendPerTarget",
        "attemptsPerAccount",
        "requestsPerIp",
        "authFailuresPerIp",
        "firstFactorFailuresPerIp",
        "requestsPerCredential",
        "searchesPerCredential",
    ):
        assert set(current["rateLimits"][name]) == {"limit", "windowSeconds"}


def test_partial_update_merges_nested_objects(tenant) -> None:
    settings.update(
        "test", tenant.tenantId, {"rateLimits": {"signupPerIp": {"limit": 3, "windowSeconds": 60}}}
    )
    settings.update("test", tenant.tenantId, {"loginRedirectPath": "/home"})
    current = settings.read("test", tenant.tenantId)
    assert current.rateLimits.signupPerIp.limit == 3
    assert current.rateLimits.sendPerIp.limit == 30
    assert current.loginRedirectPath == "/home"
    assert settings.read("live", tenant.tenantId).loginRedirectPath == "/dashboard"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"bogus": 1}, '"bogus" is not allowed'),
        ({"accessTokenDuration": "60"}, '"accessTokenDuration" must be an integer'),
        ({"accessTokenDuration": 10}, '"accessTokenDuration" must be at least 60'),
        ({"mfa": {"policy": "sometimes"}}, '"mfa.policy" must be one of [optional, all]'),
        ({"rateLimits": {"nope": {"limit": 1, "windowSeconds": 1}}}, '"rateLimits.nope"'),
        ({"liveDomains": [{"domain": "localhost"}]}, '"liveDomains[0].domain"'),
        ({"loginRedirectPath": "https://evil.example"}, '"loginRedirectPath"'),
        ({}, "At least one field is required"),
    ],
)
def test_invalid_updates_name_the_field(tenant, change: dict, message: str) -> None:
    with pytest.raises(BadRequest) as caught:
        settings.update("test", tenant.tenantId, change)
    assert message in caught.value.message
