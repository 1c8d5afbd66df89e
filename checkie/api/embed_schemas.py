"""JSON shapes of embeds. The rules (origin format, settings) live in `checkie.catalog.embeds`,
whose 422s name its arguments (`allowed_origins`, `button_text`): the API answers them under these
schemas' names (`allowedOrigins`, `settings.buttonText`)."""
from __future__ import annotations

from flask import current_app
from marshmallow import RAISE, fields, validate

from checkie.api.schemas import CamelSchema, list_schema
from checkie.catalog import embeds
from checkie.catalog.models import Embed, EmbedType

_ORIGINS_HELP = (
    "Sites allowed to frame the checkout, as origins (scheme://host[:port], http or https, no path), "
    "normalised to lower case. Empty: any site."
)


class EmbedSettingsSchema(CamelSchema):
    """`create_embed`'s settings arguments, which are also the keys of the stored settings."""

    class Meta:
        unknown = RAISE

    button_text = fields.String(
        validate=validate.Length(max=embeds.BUTTON_TEXT_MAX_LENGTH),
        metadata={"description": f"Text of the button or link (default “{embeds.DEFAULT_BUTTON_TEXT}”)."},
    )
    theme = fields.String(validate=validate.OneOf(embeds.THEMES), metadata={"description": "Default auto."})
    brand_color = fields.String(
        allow_none=True, validate=validate.Length(max=7),
        metadata={"description": "The merchant's brand colour as #rrggbb: the checkout's buttons and links take it."},
    )


#: For `nested_fields`: the `create_embed` arguments that JSON bodies nest under `settings`.
SETTINGS_PATHS = {name: f"settings.{name}" for name in embeds.SETTING_NAMES}


class EmbedSchema(CamelSchema):
    id = fields.Integer(
        required=True, metadata={"description": "The id in /api/stores/{storeId}/embeds/{embedId} (not the public id)."}
    )
    embed_id = fields.String(
        required=True, metadata={"description": "The public id (emb_…) used in the snippet and the iframe URL."}
    )
    page_id = fields.Integer(required=True)
    type = fields.Enum(EmbedType, by_value=True, required=True)
    allowed_origins = fields.List(fields.String(), required=True, metadata={"description": _ORIGINS_HELP})
    settings = fields.Nested(EmbedSettingsSchema, required=True)
    iframe_url = fields.String(required=True, metadata={"description": "The checkout laid out for an iframe."})
    created_at = fields.DateTime(required=True)


class EmbedCreateSchema(CamelSchema):
    type = fields.Enum(EmbedType, by_value=True, required=True, metadata={
        "description": "inline: an iframe in the page; button: opens the checkout in an overlay; link: a plain link.",
    })
    allowed_origins = fields.List(
        fields.String(validate=validate.Length(max=embeds.ORIGIN_MAX_LENGTH)),
        validate=validate.Length(max=embeds.MAX_ORIGINS), metadata={"description": _ORIGINS_HELP},
    )
    settings = fields.Nested(EmbedSettingsSchema)


class EmbedCodeSchema(CamelSchema):
    html = fields.String(required=True, metadata={"description": "The snippet to paste into the merchant's site."})


EmbedListSchema = list_schema(EmbedSchema, "EmbedList")


def embed_view(embed: Embed) -> dict:
    """An embed as the API shows it: its public id and iframe URL beside the row's fields."""
    return {
        "id": embed.id, "embed_id": embed.public_id, "page_id": embed.page_id, "type": embed.type,
        "allowed_origins": embed.allowed_origins, "settings": embeds.settings_of(embed),
        "iframe_url": embeds.iframe_url(embed, current_app.config["APP_URL"]), "created_at": embed.created_at,
    }
