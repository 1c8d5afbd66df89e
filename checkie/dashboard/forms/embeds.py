"""The form that creates an embed. The rules (origin format, settings) live in
`checkie.catalog.embeds`, whose arguments the fields are named after."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import Length, Optional

from checkie.catalog import embeds
from checkie.catalog.models import EmbedType

TYPE_CHOICES = [
    SelectChoice(EmbedType.INLINE.value, "Inline — the checkout inside your page"),
    SelectChoice(EmbedType.BUTTON.value, "Button — opens the checkout over your page"),
    SelectChoice(EmbedType.LINK.value, "Link — goes to the hosted checkout"),
]
THEME_CHOICES = [
    SelectChoice("auto", "Follow the visitor's setting"), SelectChoice("light", "Light"), SelectChoice("dark", "Dark"),
]


class EmbedForm(FlaskForm):
    type = SelectField("Type", choices=TYPE_CHOICES, default=EmbedType.INLINE.value)
    button_text = StringField("Button text", validators=[Optional(), Length(max=embeds.BUTTON_TEXT_MAX_LENGTH)])
    theme = SelectField("Theme", choices=THEME_CHOICES, default=embeds.DEFAULT_THEME)
    brand_color = StringField("Brand colour", validators=[Optional(), Length(max=7)], render_kw={"placeholder": "#4f46e5"})
    allowed_origins = TextAreaField("Allowed sites", validators=[Optional()])

    def origin_lines(self) -> list[str]:
        return [line.strip() for line in (self.allowed_origins.data or "").splitlines() if line.strip()]

    def settings(self) -> dict:
        """`create_embed`'s settings arguments (blank ones get their defaults there)."""
        return {"button_text": self.button_text.data, "theme": self.theme.data, "brand_color": self.brand_color.data}
