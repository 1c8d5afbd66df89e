"""JSON shapes for a store's bank account and its payouts (SPEC §6.6; minor units)."""
from __future__ import annotations

from marshmallow import fields, post_dump, validate

from checkie.api.schemas import CamelSchema, list_schema
from checkie.payments.models import PayoutStatus


class PayoutAccountBodySchema(CamelSchema):
    account_holder_name = fields.String(required=True, validate=validate.Length(max=200))
    routing_number = fields.String(required=True, validate=validate.Length(max=40),
                                   metadata={"description": "9 digits (the test provider's: 110000000)."})
    account_number = fields.String(required=True, validate=validate.Length(max=40), metadata={
        "description": "4–17 digits; stored encrypted and never shown again (the test provider pays "
                       "000123456789; 000111111116 and any other number fail with no_account)."})


class PayoutAccountSchema(CamelSchema):
    account_holder_name = fields.String(required=True, attribute="holder_name")
    routing_number = fields.String(required=True)
    last4 = fields.String(required=True)


class PayoutBodySchema(CamelSchema):
    amount = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=10**15),
                            metadata={"description": "Minor units."})
    currency = fields.String(required=True, validate=validate.Length(equal=3))


class PayoutSchema(CamelSchema):
    id = fields.Integer(required=True)
    amount = fields.Integer(required=True, metadata={"description": "Minor units."})
    currency = fields.String(required=True)
    status = fields.Enum(PayoutStatus, by_value=True, required=True)
    failure_code = fields.String(metadata={"description": "Why it failed (e.g. no_account); only on a failed payout."})
    created_at = fields.DateTime(required=True, attribute="requested_at")
    paid_at = fields.DateTime(metadata={"description": "Only on a paid payout."})

    @post_dump
    def _only_when_set(self, data: dict, **_) -> dict:
        """`failureCode` and `paidAt` appear only on the payouts they describe (SPEC §6.6)."""
        return {key: value for key, value in data.items() if value is not None or key not in ("failureCode", "paidAt")}


PayoutListSchema = list_schema(PayoutSchema, "PayoutList")



def payout_view(payout) -> dict:
    """The payout as the API and its events show it."""
    return PayoutSchema().dump(payout)
