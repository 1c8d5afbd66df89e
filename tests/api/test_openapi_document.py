"""One API document (/api/openapi.json) for the merchant API, the widget API and the PSP
webhooks: every operation with the answers it may give. (That the answers keep to it:
test_openapi_contract.py.)"""
from __future__ import annotations

import pytest

WIDGET_OPERATIONS = {
    ("/api/widget/pages/{store_slug}/{page_slug}", "get"): {"200", "404", "429"},
    ("/api/widget/sessions/{session_id}", "patch"): {"200", "400", "404", "409", "422", "429"},
    ("/api/widget/validate-coupon", "post"): {"200", "400", "404", "422", "429"},
    ("/api/widget/checkout", "post"): {"200", "400", "404", "409", "422", "429"},
    ("/api/widget/sessions/{session_id}/status", "get"): {"200", "404", "429"},
    ("/api/widget/sessions/{session_id}/abandon", "post"): {"200", "404", "409", "429"},
    ("/api/widget/embed/{embed_id}", "get"): {"200", "404", "429"},
}
WEBHOOK_PATHS = ["/api/webhooks/test", "/api/webhooks/stripe"]


@pytest.fixture(scope="module")
def document(app) -> dict:
    return app.test_client().get("/api/openapi.json").json


def schema_of(document: dict, content: dict) -> dict:
    schema = content["application/json"]["schema"]
    if "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


@pytest.mark.parametrize(("path", "method"), list(WIDGET_OPERATIONS))
def test_the_document_describes_every_widget_operation_and_its_answers(document, path, method):
    operation = document["paths"][path][method]
    assert WIDGET_OPERATIONS[(path, method)] <= set(operation["responses"])
    assert "security" not in operation  # public: the session id is the credential
    error = document["components"]["responses"]["NOT_FOUND"]["content"]
    assert schema_of(document, error)["required"] == ["error"]


def test_the_widget_answers_are_described_in_camel_case(document):
    opened = document["paths"]["/api/widget/pages/{store_slug}/{page_slug}"]["get"]["responses"]["200"]
    assert set(schema_of(document, opened["content"])["properties"]) == {
        "sessionId", "expiresAt", "store", "page", "amount",
    }
    payment = document["paths"]["/api/widget/checkout"]["post"]
    assert set(schema_of(document, payment["requestBody"]["content"])["properties"]) == {"sessionId", "paymentMethod"}
    assert [p["name"] for p in payment["parameters"]] == ["Idempotency-Key"]
    answer = schema_of(document, payment["responses"]["200"]["content"])
    assert set(answer["properties"]) == {"sessionId", "status", "clientSecret", "nextAction", "error"}


@pytest.mark.parametrize("path", WEBHOOK_PATHS)
def test_the_document_describes_the_psp_webhooks(document, path):
    operation = document["paths"][path]["post"]
    assert {"200", "400"} <= set(operation["responses"])
    assert operation["parameters"][0]["name"] == "Stripe-Signature" and operation["parameters"][0]["required"]
    assert schema_of(document, operation["requestBody"]["content"])["type"] == "object"
    received = schema_of(document, operation["responses"]["200"]["content"])
    assert received["required"] == ["received"]


#: The merchant API's webhook endpoints (SPEC §6.6) and the answers each documents.
_ENDPOINT = "/api/stores/{store_id}/webhooks/{endpoint_id}"
WEBHOOK_ENDPOINT_OPERATIONS = {
    ("/api/stores/{store_id}/webhooks", "get"): {"200", "401", "404", "422"},
    ("/api/stores/{store_id}/webhooks", "post"): {"201", "401", "403", "404", "422"},
    (_ENDPOINT, "get"): {"200", "401", "404"},
    (_ENDPOINT, "patch"): {"200", "401", "403", "404", "422"},
    (_ENDPOINT, "delete"): {"204", "401", "403", "404"},
    (_ENDPOINT + "/rotate-secret", "post"): {"200", "401", "403", "404"},
    (_ENDPOINT + "/test", "post"): {"202", "401", "403", "404", "409"},
    (_ENDPOINT + "/deliveries", "get"): {"200", "401", "404", "422"},
    (_ENDPOINT + "/deliveries/{delivery_id}", "get"): {"200", "401", "404"},
    (_ENDPOINT + "/deliveries/{delivery_id}/resend", "post"): {"202", "401", "403", "404", "409"},
    (_ENDPOINT + "/replay", "post"): {"200", "401", "403", "404", "409", "422"},
}


@pytest.mark.parametrize(("path", "method"), list(WEBHOOK_ENDPOINT_OPERATIONS))
def test_the_document_describes_every_webhook_endpoint_operation(document, path, method):
    operation = document["paths"][path][method]
    assert WEBHOOK_ENDPOINT_OPERATIONS[(path, method)] == set(operation["responses"]) - {"default"}
    assert operation["security"] == [{"bearerAuth": []}]


def test_the_webhook_bodies_are_described_in_camel_case_and_the_secret_only_where_it_is_shown(document):
    webhooks = document["paths"]["/api/stores/{store_id}/webhooks"]
    created = schema_of(document, webhooks["post"]["responses"]["201"]["content"])
    assert set(created["properties"]) == {"id", "url", "events", "description", "enabled", "disabledReason", "createdAt", "secret"}
    assert set(schema_of(document, webhooks["post"]["requestBody"]["content"])["properties"]) == {"url", "events", "description"}
    shown = schema_of(document, document["paths"][_ENDPOINT]["get"]["responses"]["200"]["content"])
    assert set(shown["properties"]) == set(created["properties"]) - {"secret"}
    rotated = document["paths"][_ENDPOINT + "/rotate-secret"]["post"]["responses"]["200"]["content"]
    assert set(schema_of(document, rotated)["properties"]) == {"secret"}
    detail = document["paths"][_ENDPOINT + "/deliveries/{delivery_id}"]["get"]["responses"]["200"]["content"]
    assert set(schema_of(document, detail)["properties"]) == {
        "id", "eventId", "eventType", "status", "attempts", "lastStatusCode", "lastError", "nextAttemptAt", "createdAt",
        "attemptLog",
    }
    replay = document["paths"][_ENDPOINT + "/replay"]["post"]
    assert schema_of(document, replay["requestBody"]["content"])["required"] == ["since"]
